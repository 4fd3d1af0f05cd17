using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

internal enum ActivationKind { None, Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh }

/// <summary>
/// An activation fused into the epilogue of a Conv or GEMM, with its parameters (Clip: min, max;
/// LeakyRelu: alpha; HardSigmoid: alpha, beta). Formulas are ONNX's, evaluated in the same order as the
/// separate operators so fused and unfused graphs agree to the last bit where the separate kernels are exact.
/// </summary>
internal readonly record struct FusedActivation(ActivationKind Kind, float Alpha = 0, float Beta = 0)
{
    public static readonly FusedActivation None = new(ActivationKind.None);

    /// <summary>Parses the <c>activation</c> name used by <c>com.loom.FusedConv</c> (ONNX operator names); null if unknown.</summary>
    public static ActivationKind? ParseKind(string name) => name switch
    {
        "" or "None" => ActivationKind.None,
        "Relu" => ActivationKind.Relu,
        "Clip" => ActivationKind.Clip,
        "LeakyRelu" => ActivationKind.LeakyRelu,
        "HardSigmoid" => ActivationKind.HardSigmoid,
        "HardSwish" => ActivationKind.HardSwish,
        "Sigmoid" => ActivationKind.Sigmoid,
        "Tanh" => ActivationKind.Tanh,
        _ => null,
    };

    /// <summary>
    /// The activation a FusedConv node names: attribute <c>activation</c> and its <c>activation_params</c>
    /// (Clip: min, max; LeakyRelu: alpha, default 0.01; HardSigmoid: alpha, beta, default 0.2, 0.5).
    /// </summary>
    public static FusedActivation FromNode(IR.Node node, Func<string, Exception> fail)
    {
        string name = node.GetString("activation", "");
        var kind = ParseKind(name) ?? throw fail($"activation '{name}' is not one of Relu, Clip, LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh");
        var p = node.GetFloats("activation_params") ?? [];
        float P(int i, float fallback) => i < p.Length ? p[i] : fallback;
        return kind switch
        {
            ActivationKind.Clip => new(kind, P(0, float.MinValue), P(1, float.MaxValue)),
            ActivationKind.LeakyRelu => new(kind, P(0, 0.01f)),
            ActivationKind.HardSigmoid => new(kind, P(0, 0.2f), P(1, 0.5f)),
            _ => new(kind),
        };
    }

    /// <summary>The attributes that describe this activation on a FusedConv node (inverse of <see cref="FromNode"/>).</summary>
    public IEnumerable<IR.Attribute> ToAttributes()
    {
        yield return IR.Attribute.String("activation", Kind.ToString());
        float[] ps = Kind switch
        {
            ActivationKind.Clip or ActivationKind.HardSigmoid => [Alpha, Beta],
            ActivationKind.LeakyRelu => [Alpha],
            _ => [],
        };
        if (ps.Length > 0) yield return IR.Attribute.Floats("activation_params", ps);
    }

    /// <summary>p[j] = act(p[j] + bias + add[j]) for j in [0, n); <paramref name="add"/> may be null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void ApplyRow(float* p, int n, float bias, float* add)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated) // Sigmoid and Tanh: the sum here (the default case), the function below
        {
            var vb = Vector256.Create(bias);
            var (lo, hi, a, b) = Bounds();
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var va = Vector256.Create(a);
            var vbeta = Vector256.Create(b);
            // One loop per kind: a switch per vector costs as much as the arithmetic.
            switch (Kind)
            {
                case ActivationKind.Relu:
                    for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Max(Load(p, add, j, vb), Vector256<float>.Zero), p + j);
                    break;
                case ActivationKind.Clip:
                    for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Min(Vector256.Max(Load(p, add, j, vb), vlo), vhi), p + j);
                    break;
                case ActivationKind.LeakyRelu:
                    for (; j + 8 <= n; j += 8)
                    {
                        var v = Load(p, add, j, vb);
                        Vector256.Store(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v, v * va), p + j);
                    }
                    break;
                case ActivationKind.HardSigmoid:
                    for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Min(Vector256.Max(va * Load(p, add, j, vb) + vbeta, vlo), vhi), p + j);
                    break;
                case ActivationKind.HardSwish:
                    for (; j + 8 <= n; j += 8)
                    {
                        var v = Load(p, add, j, vb);
                        Vector256.Store(v * Vector256.Min(Vector256.Max(va * v + vbeta, vlo), vhi), p + j);
                    }
                    break;
                default:
                    for (; j + 8 <= n; j += 8) Vector256.Store(Load(p, add, j, vb), p + j);
                    break;
            }
        }
        for (; j < n; j++)
        {
            float v = p[j] + bias;
            if (add != null) v += add[j];
            p[j] = Scalar(v);
        }
        if (Kind is ActivationKind.Sigmoid) TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(p, n), new Span<float>(p, n));
        else if (Kind is ActivationKind.Tanh) TensorPrimitives.Tanh(new ReadOnlySpan<float>(p, n), new Span<float>(p, n));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Load(float* p, float* add, int j, Vector256<float> bias)
    {
        var v = Vector256.Load(p + j) + bias;
        return add != null ? v + Vector256.Load(add + j) : v;
    }

    /// <summary>
    /// Sets <paramref name="tile"/>'s activation to this one when a micro-kernel can apply it (every kind but
    /// Sigmoid and Tanh), with the parameters <see cref="ApplyRow"/> uses, so both give the same bits.
    /// </summary>
    public bool ToTile(ref GemmTileEpilogue tile)
    {
        var (lo, hi, a, b) = Bounds();
        (tile.Lo, tile.Hi, tile.A, tile.B) = (lo, hi, a, b);
        (tile.Mode, bool ok) = Kind switch
        {
            ActivationKind.None => (TileActivation.None, true),
            ActivationKind.Relu => (TileActivation.Clamp, true),
            ActivationKind.Clip => (TileActivation.Clamp, true),
            ActivationKind.HardSigmoid => (TileActivation.HardSigmoid, true),
            ActivationKind.HardSwish => (TileActivation.HardSwish, true),
            ActivationKind.LeakyRelu => (TileActivation.LeakyRelu, true),
            _ => (TileActivation.None, false),
        };
        if (Kind == ActivationKind.Relu) (tile.Lo, tile.Hi) = (0, float.PositiveInfinity);
        return ok;
    }

    /// <summary>Applies the activation alone to a span (no bias).</summary>
    public unsafe void Apply(Span<float> values)
    {
        if (Kind == ActivationKind.None) return;
        fixed (float* p = values) ApplyRow(p, values.Length, 0, null);
    }

    /// <summary>The clamp range and affine parameters of the piecewise-linear kinds, as used by <see cref="Vector"/>.</summary>
    private (float Lo, float Hi, float A, float B) Bounds() => Kind switch
    {
        ActivationKind.Clip => (Alpha, Beta, 0, 0),
        ActivationKind.HardSigmoid => (0, 1, Alpha, Beta),
        ActivationKind.HardSwish => (0, 1, 1f / 6, 0.5f),
        _ => (0, 0, Alpha, 0),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Scalar(float v) => Kind switch
    {
        ActivationKind.Relu => Math.Max(v, 0),
        ActivationKind.Clip => Math.Min(Math.Max(v, Alpha), Beta),
        ActivationKind.LeakyRelu => v >= 0 ? v : v * Alpha,
        ActivationKind.HardSigmoid => Math.Min(Math.Max(Alpha * v + Beta, 0), 1),
        ActivationKind.HardSwish => v * Math.Min(Math.Max(v * (1f / 6) + 0.5f, 0), 1),
        _ => v,
    };
}
