using System.Numerics;
using System.Numerics.Tensors;
using Loom.Kernels.Common;

namespace Loom.Kernels.Reference;

/// <summary>
/// One direction of a recurrent layer advancing one batch row by one time step. It holds that
/// direction's recurrence weights R (gates·hidden × hidden), recurrence bias Rb and scratch space, so an
/// instance belongs to one kernel run. The input projection x·Wᵀ + Wb is computed for all steps up front
/// and passed in as <c>xw</c>.
/// </summary>
internal abstract class RecurrentCell<T>(int hidden, int gates, T[] r, T[] rb, float? clip) where T : struct, IFloatingPointIeee754<T>
{
    protected readonly int H = hidden;
    protected readonly T[] Gates = new T[gates * hidden];

    /// <summary>Updates <paramref name="h"/> (and the LSTM cell state <paramref name="c"/>) from the previous step's values.</summary>
    public abstract void Step(ReadOnlySpan<T> xw, Span<T> h, Span<T> c);

    /// <summary>Gates[first..first+count) = xw + h·R[rows]ᵀ + Rb over gate blocks <paramref name="first"/> onwards.</summary>
    protected void Project(ReadOnlySpan<T> xw, ReadOnlySpan<T> h, int firstGate, int gateCount)
    {
        int from = firstGate * H, n = gateCount * H;
        var g = Gates.AsSpan(from, n);
        SequenceNumerics.MatMulTransposedB<T>(h, H, r.AsSpan(from * H, n * H), H, g, n, 1, n, H, accumulate: false);
        TensorPrimitives.Add(g, xw.Slice(from, n), g);
        TensorPrimitives.Add(g, rb.AsSpan(from, n), g);
    }

    /// <summary>Bounds an activation's input to [−clip, clip] when the clip attribute is set.</summary>
    protected void Clip(Span<T> x)
    {
        if (clip is not { } c) return;
        T bound = T.CreateTruncating(c);
        TensorPrimitives.Min(x, bound, x);
        TensorPrimitives.Max(x, -bound, x);
    }

    protected void Activate(RecurrentActivation f, Span<T> x)
    {
        Clip(x);
        f.Apply(x);
    }
}

/// <summary>Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb).</summary>
internal sealed class RnnCell<T>(int hidden, T[] r, T[] rb, float? clip, RecurrentActivation[] act)
    : RecurrentCell<T>(hidden, 1, r, rb, clip) where T : struct, IFloatingPointIeee754<T>
{
    public override void Step(ReadOnlySpan<T> xw, Span<T> h, Span<T> c)
    {
        Project(xw, h, 0, 1);
        Activate(act[0], Gates);
        Gates.CopyTo(h);
    }
}

/// <summary>
/// z = f(..z), r = f(..r), candidate = g(Xₜ·Whᵀ + (r ⊙ Hₜ₋₁)·Rhᵀ + Rbh + Wbh), or with linear_before_reset
/// g(Xₜ·Whᵀ + r ⊙ (Hₜ₋₁·Rhᵀ + Rbh) + Wbh); Hₜ = (1 − z) ⊙ candidate + z ⊙ Hₜ₋₁.
/// </summary>
internal sealed class GruCell<T>(int hidden, T[] r, T[] rb, float? clip, RecurrentActivation[] act, bool linearBeforeReset)
    : RecurrentCell<T>(hidden, 3, r, rb, clip) where T : struct, IFloatingPointIeee754<T>
{
    private readonly T[] _reset = new T[hidden];
    private readonly T[] _rh = r; // rows 2H..3H hold Rh
    private readonly T[] _rbh = rb;

    public override void Step(ReadOnlySpan<T> xw, Span<T> h, Span<T> c)
    {
        Project(xw, h, 0, 2);
        var z = Gates.AsSpan(0, H);
        var reset = Gates.AsSpan(H, H);
        Activate(act[0], z);
        Activate(act[0], reset);

        var cand = Gates.AsSpan(2 * H, H);
        var rh = _rh.AsSpan(2 * H * H, H * H);
        if (linearBeforeReset)
        {
            SequenceNumerics.MatMulTransposedB<T>(h, H, rh, H, cand, H, 1, H, H, accumulate: false);
            TensorPrimitives.Add(cand, _rbh.AsSpan(2 * H, H), cand);
            TensorPrimitives.Multiply(cand, reset, cand);
        }
        else
        {
            TensorPrimitives.Multiply(reset, h, _reset);
            SequenceNumerics.MatMulTransposedB<T>(_reset, H, rh, H, cand, H, 1, H, H, accumulate: false);
            TensorPrimitives.Add(cand, _rbh.AsSpan(2 * H, H), cand);
        }
        TensorPrimitives.Add(cand, xw.Slice(2 * H, H), cand);
        Activate(act[1], cand);

        for (int i = 0; i < H; i++) h[i] = (T.One - z[i]) * cand[i] + z[i] * h[i];
    }
}

/// <summary>
/// Gates i, o, f, c (in that order in W and R); peepholes P = [Pi Po Pf] read Cₜ₋₁ for i and f and Cₜ for o;
/// Cₜ = f ⊙ Cₜ₋₁ + i ⊙ g(..c), Hₜ = o ⊙ h(Cₜ). With input_forget, f = 1 − i.
/// </summary>
internal sealed class LstmCell<T>(int hidden, T[] r, T[] rb, float? clip, RecurrentActivation[] act, T[]? peepholes, bool inputForget)
    : RecurrentCell<T>(hidden, 4, r, rb, clip) where T : struct, IFloatingPointIeee754<T>
{
    public override void Step(ReadOnlySpan<T> xw, Span<T> h, Span<T> c)
    {
        Project(xw, h, 0, 4);
        Span<T> i = Gates.AsSpan(0, H), o = Gates.AsSpan(H, H), f = Gates.AsSpan(2 * H, H), cand = Gates.AsSpan(3 * H, H);
        Peephole(i, c, 0);
        Activate(act[0], i);
        if (inputForget) TensorPrimitives.Subtract(T.One, i, f);
        else
        {
            Peephole(f, c, 2);
            Activate(act[0], f);
        }
        Activate(act[1], cand);

        TensorPrimitives.Multiply(f, c, c);
        TensorPrimitives.MultiplyAdd(i, cand, c, c);

        Peephole(o, c, 1);
        Activate(act[0], o);
        c.CopyTo(h);
        act[2].Apply(h); // h() reads the cell state unclipped, as ONNX Runtime does
        TensorPrimitives.Multiply(h, o, h);
    }

    private void Peephole(Span<T> gate, ReadOnlySpan<T> c, int block)
    {
        if (peepholes is null) return;
        TensorPrimitives.MultiplyAdd(c, peepholes.AsSpan(block * H, H), gate, gate);
    }
}
