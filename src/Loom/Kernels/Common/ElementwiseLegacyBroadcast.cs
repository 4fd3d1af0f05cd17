using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// Broadcasting of binary ops before opset 7: with <c>broadcast=1</c>, B's shape matches a run of A's
/// dims starting at <c>axis</c> (A's trailing dims when <c>axis</c> is absent, as NumPy does). Aligning
/// B by appending 1s turns it into ordinary NumPy broadcasting; the output has A's shape.
/// PRelu before opset 7 is the per-channel case: a 1-D slope of length C applies along axis 1.
/// </summary>
internal readonly record struct LegacyBroadcast(bool Enabled, long Axis, bool PerChannel = false)
{
    public static LegacyBroadcast PerChannelSlope(KernelInfo info) => info.Opset < 7 ? new LegacyBroadcast(true, 1, PerChannel: true) : default;

    public static LegacyBroadcast From(KernelInfo info) =>
        info.Opset < 7 && info.GetInt("broadcast", 0) != 0 && info.Node.GetAttribute("axis") is not null
            ? new LegacyBroadcast(true, info.GetInt("axis", 0))
            : default;

    /// <summary>B reshaped (a view) so NumPy broadcasting against A matches the legacy rule.</summary>
    public Tensor Align(KernelContext ctx, Tensor a, Tensor b)
    {
        if (!Enabled) return b;
        if (PerChannel && !(b.Rank == 1 && a.Rank >= 2 && b.Length == a.Shape[1] && b.Length != 1)) return b;
        long axis = Axis < 0 ? Axis + a.Rank : Axis;
        if (axis < 0 || axis + b.Rank > a.Rank)
            throw ctx.Fail($"axis {Axis} cannot align input B of shape {ShapeMath.Format(b.Shape)} with A of shape {ShapeMath.Format(a.Shape)}");
        var shape = new int[a.Rank - axis];
        Array.Fill(shape, 1);
        b.Shape.CopyTo(shape);
        return b.Reshape(shape);
    }
}
