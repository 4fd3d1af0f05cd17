using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Tests.Kernels;

/// <summary>The float32 GEMM core against a float64 triple loop, on odd sizes that hit every tail path of every kernel set.</summary>
public sealed unsafe class GemmCoreTests
{
    public static TheoryData<string> KernelSets()
    {
        var d = new TheoryData<string>();
        foreach (var ks in GemmKernelSet.Supported) d.Add(ks.Name);
        return d;
    }

    private static GemmKernelSet Set(string name) => GemmKernelSet.Supported.Single(k => k.Name == name);

    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>C = alpha·op(A)·op(B) (+ C0 when accumulating), in float64.</summary>
    private static double[] Naive(int m, int n, int k, float alpha, float[] a, bool ta, float[] b, bool tb, float[]? c0)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = alpha * s + (c0?[i * n + j] ?? 0);
            }
        return c;
    }

    private static void AssertNear(double[] expected, float[] actual, int k)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (k + 1), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void MatchesNaiveOnOddSizes(string set)
    {
        var ks = Set(set);
        int[] sizes = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64, 70];
        int seed = 0;
        foreach (int m in sizes)
            foreach (int n in sizes)
                foreach (int k in new[] { 1, 3, 17, 70 })
                {
                    bool ta = (seed & 1) != 0, tb = (seed & 2) != 0, acc = (seed & 4) != 0;
                    float alpha = (seed & 8) != 0 ? 0.5f : 1f;
                    seed++;
                    var a = Random(m * k, seed);
                    var b = Random(k * n, seed + 1000);
                    var c = Random(m * n, seed + 2000);
                    var expected = Naive(m, n, k, alpha, a, ta, b, tb, acc ? c : null);
                    fixed (float* pa = a, pb = b, pc = c)
                        GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, ta ? m : k, ta, alpha), new GemmDenseB(pb, tb ? k : n, tb), pc, n, acc);
                    AssertNear(expected, c, k);
                }
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void DeepProductsCrossKBlocks(string set)
    {
        var ks = Set(set);
        int m = 13, n = 37, k = GemmCore.KC * 2 + 5;
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c)
            GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, k, false, 1), new GemmDenseB(pb, n, false), pc, n, false);
        AssertNear(Naive(m, n, k, 1, a, false, b, false, null), c, k);
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void PrepackedOperandsGiveTheSameProduct(string set)
    {
        var ks = Set(set);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (9, 33, 300), (70, 5, 17), (ks.MR * 17 + 3, ks.NR * 3 + 1, 513) })
        {
            var a = Random(m * k, m);
            var b = Random(k * n, n);
            var expected = Naive(m, n, k, 1, a, false, b, true, null);
            var c1 = new float[m * n];
            var c2 = new float[m * n];
            fixed (float* pa = a, pb = b, p1 = c1, p2 = c2)
            {
                var packedA = new GemmPackedA(ks, m, k, pa, k, transposed: false);
                var packedB = new GemmPackedB(ks, k, n, pb, k, transposed: true);
                GemmCore.Multiply(ks, m, n, k, packedA.AsOperand(), new GemmDenseB(pb, k, true), p1, n, false);
                GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, k, false, 1), packedB.AsOperand(), p2, n, false);
            }
            AssertNear(expected, c1, k);
            AssertNear(expected, c2, k);
        }
    }

    [Fact]
    public void VectorPathsHandleEveryLayout()
    {
        foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 70, 33), (1, 5000, 3), (70, 1, 33) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var a = Random(m * k, 7);
                    var b = Random(k * n, 8);
                    var c = Random(m * n, 9);
                    var expected = Naive(m, n, k, 2, a, ta, b, tb, c);
                    fixed (float* pa = a, pb = b, pc = c)
                        GemmCore.Multiply(m, n, k, 2, pa, ta ? m : k, ta, pb, tb ? k : n, tb, pc, n, accumulate: true);
                    AssertNear(expected, c, k);
                }
    }

    /// <summary>
    /// A transposed left operand packs to exactly alpha·A[i, p] (the few-positions convolutions' X), whole eight-row panels (one
    /// vector per step where the CPU has them) and the zero-filled last panel alike, at the panel's place in any depth range.
    /// </summary>
    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void TransposedPanelsHoldScaledColumnsExactly(float alpha)
    {
        const int m = 21, k = 13, mr = 8, k0 = 3, kc = 9;
        var a = Random(k * m, 11); // A[i, p] = a[p·m + i]
        var packed = new float[GemmCore.RoundUp(m, mr) * kc];
        fixed (float* pa = a, dest = packed)
            new GemmDenseA(pa, m, transposed: true, alpha).Pack(dest, 0, m, k0, kc, mr);
        for (int panel = 0; panel * mr < m; panel++)
            for (int p = 0; p < kc; p++)
                for (int r = 0; r < mr; r++)
                {
                    int i = panel * mr + r;
                    float expected = i < m ? alpha * a[(k0 + p) * m + i] : 0;
                    Assert.Equal(expected, packed[panel * mr * kc + p * mr + r]);
                }
    }

    [Fact]
    public void EmptyDepthClearsOrKeepsC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        fixed (float* pc = c)
        {
            GemmCore.Multiply(2, 2, 0, 1, null, 0, false, null, 2, false, pc, 2, accumulate: true);
            Assert.Equal([1f, 2, 3, 4], c);
            GemmCore.Multiply(2, 2, 0, 1, null, 0, false, null, 2, false, pc, 2, accumulate: false);
        }
        Assert.Equal([0f, 0, 0, 0], c);
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void ParallelBlocksGiveTheSameProduct(string set)
    {
        var ks = Set(set);
        using var pool = new WorkerPool(3);
        // Wide (columns split), tall and narrow (rows split), both, and prime sizes that leave partial tiles.
        foreach (var (m, n, k) in new[] { (70, 997, 101), (523, 5, 300), (131, 263, 257), (ks.MR * 9 + 1, ks.NR * 11 - 1, 67) })
        {
            var a = Random(m * k, m);
            var b = Random(k * n, n);
            var expected = Naive(m, n, k, 1, a, false, b, false, null);
            var c1 = new float[m * n];
            var c2 = new float[m * n];
            var c3 = new float[m * n];
            fixed (float* pa = a, pb = b, p1 = c1, p2 = c2, p3 = c3)
            {
                var packedA = new GemmPackedA(ks, m, k, pa, k, transposed: false);
                var packedB = new GemmPackedB(ks, k, n, pb, n, transposed: false);
                GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, k, false, 1), new GemmDenseB(pb, n, false), p1, n, false, pool);
                GemmCore.Multiply(ks, m, n, k, packedA.AsOperand(), new GemmDenseB(pb, n, false), p2, n, false, pool);
                GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, k, false, 1), packedB.AsOperand(), p3, n, false, pool);
            }
            AssertNear(expected, c1, k);
            AssertNear(expected, c2, k);
            AssertNear(expected, c3, k);
        }
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void EpilogueRunsOnceAfterTheLastDepthBlock(string set)
    {
        var ks = Set(set);
        using var pool = new WorkerPool(2);
        int m = 37, n = 301, k = GemmCore.KC * 2 + 9;
        var a = Random(m * k, 3);
        var b = Random(k * n, 4);
        var bias = Random(m, 5);
        var residual = Random(m * n, 6);
        var product = Naive(m, n, k, 1, a, false, b, false, null);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] = Math.Max(0, product[i * n + j] + bias[i] + residual[i * n + j]);
        foreach (var threads in new WorkerPool?[] { null, pool })
        {
            var c = new float[m * n];
            fixed (float* pa = a, pb = b, pc = c, pbias = bias, pres = residual)
                GemmCore.Multiply(ks, m, n, k, new GemmDenseA(pa, k, false, 1), new GemmDenseB(pb, n, false), pc, n, false,
                    new GemmBiasActivation(pbias, pres, n, new FusedActivation(ActivationKind.Relu)), threads);
            AssertNear(expected, c, k);
        }
    }

    [Fact]
    public void PartitionsCoverEveryTileOnce()
    {
        var ks = GemmKernelSet.Best;
        // The last two: an odd number of column tiles (ResNet's 28×28 stage: 784 and 838 wide columns), the middle one split.
        foreach (var (m, n, k, threads) in new[] { (1000, 1000, 1000, 2), (64, 49, 4608, 2), (2048, 49, 512, 4), (7, 100000, 64, 3), (5, 5, 5, 8),
                     (128, 784, 512, 2), (ks.MR * 15 + 3, ks.NR * 27 - 5, 1152, 4) })
        {
            var plan = GemmPartition.Plan(ks, m, n, k, threads, aPacked: true, bPacked: false);
            var seen = new int[m, n];
            for (int p = 0; p < plan.Parts; p++)
            {
                var (i0, i1, j0, j1) = plan.Block(p, m, n);
                Assert.True(i0 % ks.MR == 0 && j0 % ks.NR == 0, $"block {p} of {m}x{n} starts off the tile grid");
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++) seen[i, j]++;
            }
            foreach (var v in seen) Assert.Equal(1, v);
        }
    }

    [Theory]
    [InlineData(1000, 169, 512, 2)] // SqueezeNet's classifier: 1000 output channels over 13×13 positions
    [InlineData(520, 169, 96, 2)]
    [InlineData(1000, 169, 512, 3)]
    [InlineData(2048, 49, 512, 4)]
    public void LargeWeightsSplitIntoTaperedRowBlocks(int m, int n, int k, int threads)
    {
        var ks = GemmKernelSet.Best;
        var plan = GemmPartition.Plan(ks, m, n, k, threads, aPacked: true, bPacked: true);
        Assert.True(plan.Tapered && plan.ColParts == 1 && plan.RowParts % threads == 0, $"{m}x{n}: {plan}");
        var seen = new int[m];
        var rows = new int[plan.Parts];
        for (int p = 0; p < plan.Parts; p++)
        {
            var (i0, i1, j0, j1) = plan.Block(p, m, n);
            Assert.True(i0 % ks.MR == 0 && j0 == 0 && j1 == n, $"block {p}: rows {i0}..{i1}, columns {j0}..{j1}");
            rows[p] = i1 - i0;
            for (int i = i0; i < i1; i++) seen[i]++;
        }
        foreach (var v in seen) Assert.Equal(1, v);
        // Claimed from both ends: the blocks do not grow towards the middle of the order, and the outer ones are larger than the middle.
        for (int p = 0; p < plan.Parts / 2 - 1; p++)
        {
            Assert.True(rows[p] + ks.MR >= rows[p + 1], $"{m}x{n}: block {p} {rows[p]} rows, block {p + 1} {rows[p + 1]}");
            Assert.True(rows[plan.Parts - 1 - p] + ks.MR >= rows[plan.Parts - 2 - p]);
        }
        if (plan.Parts >= 4) Assert.True(rows[0] > rows[plan.Parts / 2 - 1]);
    }

    [Theory]
    [InlineData(128, 784, 16)]   // 25 column tiles of 32 (AVX-512), 16 row tiles
    [InlineData(128, 838, 16)]   // 27
    [InlineData(72, 784, 9)]     // an odd number of row tiles: the middle column's halves differ by one tile
    public void TwoThreadsClaimingFromBothEndsGetEqualHalves(int m, int n, int rowTiles)
    {
        var ks = GemmKernelSet.Best;
        if (ks.NR != 32 || ks.MR != 8) return; // the shapes are chosen for AVX-512's 8×32 tiles
        var plan = GemmPartition.Plan(ks, m, n, 512, 2, aPacked: true, bPacked: true);
        Assert.True(plan.SplitMiddle, $"{m}x{n}: {(n + 31) / 32} column tiles, expected the middle one split");
        // Equal speeds: the caller takes parts from the front and the other thread from the back until they meet.
        long front = 0, back = 0;
        for (int lo = 0, hi = plan.Parts - 1; lo <= hi;)
        {
            if (front <= back) front += Tiles(plan.Block(lo++, m, n));
            else back += Tiles(plan.Block(hi--, m, n));
        }
        Assert.True(Math.Abs(front - back) <= (rowTiles % 2 == 0 ? 0 : 1), $"{m}x{n}: {front} tiles against {back}");
        Assert.Equal((long)rowTiles * ((n + 31) / 32), front + back);

        static long Tiles((int I0, int I1, int J0, int J1) b) => (long)((b.I1 - b.I0 + 7) / 8) * ((b.J1 - b.J0 + 31) / 32);
    }

    [Theory]
    [InlineData(192, 169, 48, 2)]   // SqueezeNet's 13×13 expand 1×1: six column tiles, three blocks before
    [InlineData(64, 169, 64, 2)]
    [InlineData(640, 49, 200, 2)]   // one column block, five row blocks before
    [InlineData(512, 169, 64, 4)]   // three column blocks of five row blocks before
    [InlineData(1000, 700, 300, 3)]
    public void PartsDivideAmongTheThreads(int m, int n, int k, int threads)
    {
        var ks = GemmKernelSet.Best;
        foreach (var bPacked in new[] { false, true })
        {
            var plan = GemmPartition.Plan(ks, m, n, k, threads, aPacked: true, bPacked);
            Assert.True(plan.Parts > 1, $"{m}x{n}x{k}: not split");
            Assert.True(plan.RowParts * plan.ColParts % threads == 0, $"{m}x{n}x{k} on {threads}: {plan.RowParts}x{plan.ColParts} blocks");
            var seen = new int[m, n];
            for (int p = 0; p < plan.Parts; p++)
            {
                var (i0, i1, j0, j1) = plan.Block(p, m, n);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++) seen[i, j]++;
            }
            foreach (var v in seen) Assert.Equal(1, v);
        }
    }

    [Theory, MemberData(nameof(KernelSets))]
    public void SplitMiddleColumnGivesTheOneThreadProductBitForBit(string set)
    {
        var ks = Set(set);
        using var pool = new WorkerPool(2);
        int m = ks.MR * 16 + 3, n = ks.NR * 25 - 7, k = 300;
        Assert.True(GemmPartition.Plan(ks, m, n, k, 2, aPacked: true, bPacked: false).SplitMiddle);
        var a = Random(m * k, 3);
        var b = Random(k * n, 4);
        var bias = Random(m, 5);
        var one = new float[m * n];
        var two = new float[m * n];
        fixed (float* pa = a, pb = b, p1 = one, p2 = two, pbias = bias)
        {
            var packedA = new GemmPackedA(ks, m, k, pa, k, transposed: false);
            var epilogue = new GemmBiasActivation(pbias, null, n, new FusedActivation(ActivationKind.Relu));
            GemmCore.Multiply(ks, m, n, k, packedA.AsOperand(), new GemmDenseB(pb, n, false), p1, n, false, epilogue, null);
            GemmCore.Multiply(ks, m, n, k, packedA.AsOperand(), new GemmDenseB(pb, n, false), p2, n, false, epilogue, pool);
        }
        AssertNear(Naive(m, n, k, 1, a, false, b, false, null).Select((v, i) => Math.Max(v + bias[i / n], 0)).ToArray(), one, k);
        Assert.Equal(one, two);
    }
}
