using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// The vectorized float32 pooling (<see cref="PoolFloat"/>) against the generic reference (float64 input
/// goes through <see cref="PoolCore"/>) on odd sizes, strides 1-3, pads, dilations, ceil_mode and
/// count_include_pad, with every kernel set forced and at 1 and 2 threads.
/// </summary>
public sealed class PoolFastPathTests
{
    // x shape, kernel, strides, pads, dilations, ceil_mode, count_include_pad
    private static readonly (int[] X, int[] K, int[] S, int[] P, int[] D, int Ceil, int IncludePad)[] Cases =
    [
        ([1, 3, 17, 37], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 0, 0),
        ([2, 2, 16, 40], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], 0, 0),
        ([1, 2, 13, 29], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 1),
        ([1, 1, 11, 43], [3, 3], [2, 2], [0, 0, 0, 0], [1, 1], 1, 0),
        ([1, 2, 10, 31], [5, 3], [1, 3], [2, 1, 2, 0], [1, 2], 1, 1),
        ([1, 3, 1, 1], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 0),
        ([1, 2, 9, 14], [3, 2], [3, 3], [1, 0, 1, 1], [1, 1], 1, 1),
        ([1, 2, 5, 7], [2, 2], [1, 1], [0, 0, 0, 0], [2, 2], 0, 0),
        ([1, 4, 53], [3], [2], [1, 1], [1], 0, 0),
        // Stride-1 "same" pools on flat planes (PoolMaxSame512): rows shorter than a vector, planes of 16 to 3×55 floats.
        ([1, 5, 13, 13], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 0),
        ([2, 3, 6, 6], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 0),
        ([1, 3, 4, 4], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 0),
        ([1, 2, 3, 55], [3, 5], [1, 1], [1, 2, 1, 2], [1, 1], 0, 0),
        ([1, 2, 9, 2], [5, 5], [1, 1], [2, 2, 2, 2], [1, 1], 0, 0),
        ([1, 3, 17, 17], [1, 3], [1, 1], [0, 1, 0, 1], [1, 1], 0, 0),
        // One window over the whole plane and some padding (a global pool in disguise), without and with count_include_pad.
        ([2, 3, 6, 6], [7, 7], [1, 1], [1, 1, 0, 0], [1, 1], 0, 0),
        ([1, 3, 6, 6], [7, 7], [1, 1], [0, 0, 1, 1], [1, 1], 0, 1),
        ([2, 3, 7, 7], [7, 7], [1, 1], [0, 0, 0, 0], [1, 1], 0, 0),
    ];

    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void MaxAndAveragePoolMatchTheReference(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        int seed = 0;
        foreach (var c in Cases)
        {
            var x = ConvFastPathTests.Random(ConvFastPathTests.Size(c.X), ++seed);
            if (seed is 2 or 10) x[5] = x[20] = float.NaN; // NaN never wins a max
            foreach (var op in new[] { "MaxPool", "AveragePool" })
            {
                var attrs = new List<Attr>
                {
                    Attr.Ints("kernel_shape", c.K.Select(v => (long)v)), Attr.Ints("strides", c.S.Select(v => (long)v)),
                    Attr.Ints("pads", c.P.Select(v => (long)v)), Attr.Int("ceil_mode", c.Ceil),
                };
                if (op == "MaxPool") attrs.Add(Attr.Ints("dilations", c.D.Select(v => (long)v)));
                else attrs.Add(Attr.Int("count_include_pad", c.IncludePad));
                var fast = ConvFastPathTests.RunOne(op, "", attrs, threads, Tensor.FromArray(x, c.X)).ToArray<float>();
                var reference = Loom.Tests.Support.OpTester.Run(op, attrs, 1, 12, "", Tensor.FromArray(x.Select(v => (double)v).ToArray(), c.X))[0].ToArray<double>();
                ConvFastPathTests.AssertNear(reference, fast, $"{set} {op} case {seed}");
            }
        }
    }
}
