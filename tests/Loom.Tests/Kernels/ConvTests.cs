using Loom.Inference;
using Loom.IR;
using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ConvTests
{
    private static float[] Range(int n, float scale = 1) => Enumerable.Range(0, n).Select(i => i * scale).ToArray();

    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void Conv3x3WithPadsAndStride()
    {
        // x[r][c] = 5r + c, all-ones 3x3 kernel, pads 1, stride 2: each output is a window sum, e.g.
        // (0,0): x00+x01+x10+x11 = 12; (1,1): rows 1-3, cols 1-3 = 21+36+51 = 108; plus bias 1.
        var y = Run("Conv", [Attr.Ints("pads", [1, 1, 1, 1]), Attr.Ints("strides", [2, 2]), Attr.Ints("kernel_shape", [3, 3])],
            F(Range(25), 1, 1, 5, 5), F(Enumerable.Repeat(1f, 9).ToArray(), 1, 1, 3, 3), F([1f], 1))[0];
        Assert.Equal([1, 1, 3, 3], y.Shape.ToArray());
        AssertClose([13, 28, 25, 64, 109, 82, 73, 118, 85], y);
    }

    [Fact]
    public void Conv1DAsymmetricPadsAndDilation()
    {
        var x = F([1, 2, 3, 4], 1, 1, 4);
        var w = F([1, 10], 1, 1, 2);
        // Taps at o-1 and o: o=0 reads only x[0]·10.
        AssertClose([10, 21, 32, 43], Run("Conv", [Attr.Ints("pads", [1, 0])], x, w)[0]);
        // Dilation 2: taps o and o+2.
        AssertClose([31, 42], Run("Conv", [Attr.Ints("dilations", [2])], x, w)[0]);
    }

    [Fact]
    public void AutoPadSameSplitsOddPaddingByMode()
    {
        var x = F([1, 2, 3, 4], 1, 1, 4);
        var w = F([1, 10], 1, 1, 2);
        // Total padding 1: SAME_UPPER pads the end (taps o, o+1), SAME_LOWER the start (taps o-1, o).
        AssertClose([21, 32, 43, 4], Run("Conv", [Attr.String("auto_pad", "SAME_UPPER")], x, w)[0]);
        AssertClose([10, 21, 32, 43], Run("Conv", [Attr.String("auto_pad", "SAME_LOWER")], x, w)[0]);
    }

    /// <summary>Convolution straight from its definition, in float64 (also the reference of <see cref="ConvFastPathTests"/>).</summary>
    internal static double[] NaiveConv(float[] x, int[] xs, float[] w, int[] ws, float[]? b, int group, int[] strides, int[] pads, int[] dil, out int[] outShape)
    {
        int rank = xs.Length - 2, n = xs[0], c = xs[1], m = ws[0], cg = c / group, mg = m / group;
        var o = new int[rank];
        for (int i = 0; i < rank; i++) o[i] = (xs[i + 2] + pads[i] + pads[i + rank] - dil[i] * (ws[i + 2] - 1) - 1) / strides[i] + 1;
        outShape = [n, m, .. o];
        int osz = o.Aggregate(1, (p, v) => p * v), isz = xs.Skip(2).Aggregate(1, (p, v) => p * v), ksz = ws.Skip(2).Aggregate(1, (p, v) => p * v);
        var y = new double[n * m * osz];
        for (int bn = 0; bn < n; bn++)
            for (int mm = 0; mm < m; mm++)
                for (int op = 0; op < osz; op++)
                {
                    double s = b?[mm] ?? 0;
                    for (int cc = 0; cc < cg; cc++)
                        for (int kp = 0; kp < ksz; kp++)
                        {
                            int xi = 0, rem = op, krem = kp;
                            bool inside = true;
                            for (int i = rank - 1, ostride = 1, kstride = 1, istride = 1; i >= 0; i--)
                            {
                                int oi = rem / ostride % o[i], ki = krem / kstride % ws[i + 2];
                                int pos = oi * strides[i] - pads[i] + ki * dil[i];
                                if (pos < 0 || pos >= xs[i + 2]) inside = false;
                                xi += pos * istride;
                                ostride *= o[i]; kstride *= ws[i + 2]; istride *= xs[i + 2];
                            }
                            if (!inside) continue;
                            int ch = mm / mg * cg + cc;
                            s += (double)x[(bn * c + ch) * isz + xi] * w[(mm * cg + cc) * ksz + kp];
                        }
                    y[(bn * m + mm) * osz + op] = s;
                }
        return y;
    }

    public static TheoryData<int[], int[], int, int[], int[], int[]> Configs => new()
    {
        // x shape, w shape, group, strides, pads, dilations
        { [2, 3, 11], [5, 3, 3], 1, [2], [1, 2], [1] },
        { [1, 4, 9, 10], [8, 2, 3, 2], 2, [1, 2], [1, 0, 2, 1], [2, 1] },
        { [1, 6, 7, 7], [6, 1, 3, 3], 6, [1, 1], [1, 1, 1, 1], [1, 1] },
        { [1, 5, 6, 6], [7, 5, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1] },
        { [1, 5, 6, 6], [9, 5, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1] },
        { [1, 16, 20, 20], [33, 16, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1] },
        { [1, 2, 5, 6, 7], [4, 2, 2, 3, 2], 1, [2, 1, 2], [1, 0, 1, 0, 1, 1], [1, 2, 1] },
    };

    [Theory, MemberData(nameof(Configs))]
    public void MatchesNaiveConvolution(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dil)
    {
        var x = Random(xs.Aggregate(1, (p, v) => p * v), 1);
        var w = Random(ws.Aggregate(1, (p, v) => p * v), 2);
        var b = Random(ws[0], 3);
        var expected = NaiveConv(x, xs, w, ws, b, group, strides, pads, dil, out var shape);
        var attrs = new[] { Attr.Int("group", group), Attr.Ints("strides", strides.Select(v => (long)v)), Attr.Ints("pads", pads.Select(v => (long)v)), Attr.Ints("dilations", dil.Select(v => (long)v)) };
        var y = Run("Conv", attrs, F(x, xs), F(w, ws), F(b, ws[0]))[0];
        Assert.Equal(shape, y.Shape.ToArray());
        AssertClose(expected.Select(v => (float)v).ToArray(), y, 1e-4f);
        // float64 goes through the direct path, float16 through float32.
        var yd = Run("Conv", attrs, Tensor.FromArray(x.Select(v => (double)v).ToArray(), xs), Tensor.FromArray(w.Select(v => (double)v).ToArray(), ws),
            Tensor.FromArray(b.Select(v => (double)v).ToArray(), ws[0]))[0];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], yd.AsSpan<double>()[i], 1e-9);
    }

    [Fact]
    public void EmptyBatchGivesEmptyOutput()
    {
        var y = Run("Conv", null, F([], 0, 2, 4, 4), F(Random(3 * 2 * 9, 1), 3, 2, 3, 3))[0];
        Assert.Equal([0, 3, 2, 2], y.Shape.ToArray());
    }

    [Fact]
    public void ConvTransposeStridePadsAndOutputPadding()
    {
        var x = F([1, 2], 1, 1, 2);
        var w = F([1, 10, 100], 1, 1, 3);
        // Each input scatters x·w at 2·i: [1,10,100,0,0] + [0,0,2,20,200].
        AssertClose([1, 10, 102, 20, 200], Run("ConvTranspose", [Attr.Ints("strides", [2])], x, w)[0]);
        AssertClose([10, 102, 20], Run("ConvTranspose", [Attr.Ints("strides", [2]), Attr.Ints("pads", [1, 1])], x, w)[0]);
        AssertClose([1, 10, 102, 20, 200, 0], Run("ConvTranspose", [Attr.Ints("strides", [2]), Attr.Ints("output_padding", [1])], x, w)[0]);
        // output_shape 7 > natural 5: the total padding -2 splits (floor) to -1 before and -1 after, so the
        // natural output moves one place right and both ends hold only the bias.
        AssertClose([3, 4, 13, 105, 23, 203, 3], Run("ConvTranspose", [Attr.Ints("strides", [2]), Attr.Ints("output_shape", [7])], x, w, F([3], 1))[0]);
    }

    [Fact]
    public void ConvTransposeGroupsAndChannels()
    {
        // Two groups of one input channel and two output channels each: y[g*2+m] = x[g] ⊛ w[g, m].
        var x = F([1, 2, 3, 4], 1, 2, 2);
        var w = F([1, 1, 2, 2, 3, 3, 4, 4], 2, 2, 2);
        var y = Run("ConvTranspose", [Attr.Int("group", 2)], x, w)[0];
        Assert.Equal([1, 4, 3], y.Shape.ToArray());
        AssertClose([1, 3, 2, 2, 6, 4, 9, 21, 12, 12, 28, 16], y);
    }

    [Fact]
    public void ShapeRulesKeepSymbols()
    {
        var conv = ConvInference.Output("Conv", [Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1])],
            ConvInference.T("n", 3, "h", "w"), ConvInference.T(8, 3, 3, 3));
        Assert.Equal("[n,8,(h-1)/2+1,(w-1)/2+1]", conv.ToString());
        var same = ConvInference.Output("Conv", [Attr.String("auto_pad", "SAME_UPPER"), Attr.Ints("strides", [2])], ConvInference.T("n", 3, "h"), ConvInference.T(8, 3, 3));
        Assert.Equal(Dim.CeilDiv(Dim.Symbol("h"), 2), same[2]);
        var tr = ConvInference.Output("ConvTranspose", [Attr.Ints("strides", [2])], ConvInference.T("n", 3, "h"), ConvInference.T(3, 4, 3));
        Assert.Equal("[n,4,h*2+1]", tr.ToString());
    }
}

/// <summary>Runs shape inference on a one-node model with symbolic input shapes (dims are ints or symbol names).</summary>
internal static class ConvInference
{
    public static TensorType T(params object[] dims) => new(DataType.Float, new Shape(dims.Select(d => d is string s ? Dim.Symbol(s) : Dim.Of(Convert.ToInt64(d)))));

    public static Shape Output(string op, IEnumerable<Attr>? attrs, params TensorType[] inputs) => Outputs(op, attrs, 1, inputs)[0];

    public static Shape[] Outputs(string op, IEnumerable<Attr>? attrs, int outputs, params TensorType[] inputs)
    {
        var node = new Node(op, inputs.Select((_, i) => $"in{i}"), Enumerable.Range(0, outputs).Select(i => $"out{i}"), attrs, "op", "");
        var graph = new Graph("g", inputs.Select((t, i) => new ValueInfo($"in{i}", t)), Enumerable.Range(0, outputs).Select(i => new ValueInfo($"out{i}", null)), [node]);
        var model = ShapeInference.Run(new Model(graph, new Dictionary<string, int> { [""] = 21 }, irVersion: 10));
        return Enumerable.Range(0, outputs).Select(i => ((TensorType)model.Graph.TypeOf($"out{i}")!).Shape!).ToArray();
    }
}
