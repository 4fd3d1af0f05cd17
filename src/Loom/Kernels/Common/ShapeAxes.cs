using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>Axis arithmetic the shape-family kernels share.</summary>
internal static class ShapeAxes
{
    /// <summary>Normalises a possibly negative axis, failing with the node's name when out of range.</summary>
    public static int Axis(KernelContext ctx, long axis, int rank)
    {
        if (axis < -rank || axis >= rank) throw ctx.Fail($"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>The element counts before and after <paramref name="axis"/>: a tensor is [outer, dim, inner].</summary>
    public static (int Outer, int Inner) AroundAxis(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int k = 0; k < axis; k++) outer *= shape[k];
        for (int k = axis + 1; k < shape.Length; k++) inner *= shape[k];
        return (outer, inner);
    }
}
