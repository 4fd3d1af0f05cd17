using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>Calls a Winograd tile size's kernel directly (so shapes the path would not choose are covered too).</summary>
internal static unsafe class WinogradCalls
{
    /// <summary>
    /// Y of a 3×3 stride-1 convolution of <paramref name="xs"/> with <paramref name="m"/> outputs at tile size
    /// <paramref name="tile"/> (2 or 4); Y starts as NaN so an element no part writes shows. <paramref name="whole"/> and
    /// <paramref name="rows"/> override the split, which never changes a bit.
    /// </summary>
    public static float[] Run(int tile, GemmKernelSet ks, int[] xs, int m, int[] pads, float[] x, float[] w, float[]? b, float[]? z,
        FusedActivation act, WorkerPool? pool, out ConvProblem problem, (float[] Scale, float[] Shift)? pre = null, bool? whole = null,
        bool? rows = null)
    {
        int[] ws = [m, xs[1], 3, 3];
        var attrs = ConvAttributes.Parse(new Loom.IR.Node("Conv", ["x", "w"], ["y"], ConvAttrs(1, [1, 1], pads, [1, 1])),
            e => new InvalidOperationException(e));
        problem = ConvProblem.Create(attrs, xs, ws, e => new InvalidOperationException(e));
        var g = new Conv3D(problem.Geometry);
        var y = new float[Size(problem.OutputShape)];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, pw = w, pb = b, pz = z, py = y, ps = pre?.Scale, pt = pre?.Shift)
        {
            var buffers = new ConvBuffers(px, pw, pb, pz, py, new ChannelTransform(ps, pt, pre is not null));
            if (tile == 2)
                ConvWinograd<WinogradF2>.Run(problem, g, new ConvWinogradWeights<WinogradF2>(ks, m, xs[1], pw), buffers, act, pool, whole, transposed: rows);
            else
                ConvWinograd<WinogradF4>.Run(problem, g, new ConvWinogradWeights<WinogradF4>(ks, m, xs[1], pw), buffers, act, pool, whole, transposed: rows);
        }
        return y;
    }
}
