using System.Numerics;
using Loom.IR;
using Loom.Kernels.Common;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Reference;

/// <summary>ConvTranspose (opsets 1, 11, 22) for float32, float64, float16 and bfloat16.</summary>
[KernelRegistrations]
internal static class ConvTransposeKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("ConvTranspose", info => ConvKernels.Guard(ConvKernels.FloatTypes, new ConvTransposeKernel(info, FusedActivation.None)), 1);
        // com.loom: ConvTranspose whose activation (Passes.FuseConvActivation) runs in the bias pass, on planes still in cache.
        r.Add(ConvOps.FusedConvTranspose, info => ConvKernels.Guard([DataType.Float], new ConvTransposeKernel(info, FusedActivation.FromNode(info.Node, info.Fail))), 1,
            domain: ConvOps.LoomDomain);
    }
}

/// <summary>
/// ConvTranspose as GEMM + col2im per image and group: col[M/g·k × positions] = W_gᵀ · X_g, then every
/// column is scattered-added onto Y. Columns are processed in chunks so the column buffer stays small. The bias and a
/// fused activation (float32) are one epilogue: when the kernel tiles the output (stride = kernel, no padding, 2-D), on each
/// chunk's output rows right after they are placed, while they are in cache; otherwise one pass over Y after it is complete.
/// </summary>
internal sealed unsafe class ConvTransposeKernel : Kernel
{
    // 256 KB: the column chunk stays in L2 between the GEMM that writes it and col2im that reads it.
    private const int ColumnBufferFloats = 1 << 16;
    private readonly ConvTransposeGeometry.Attributes _attrs;
    private readonly GemmPackedA[]? _packed;
    private readonly FusedActivation _activation;

    public ConvTransposeKernel(KernelInfo info, FusedActivation activation)
    {
        _activation = activation;
        _attrs = ConvTransposeGeometry.Attributes.Parse(info.Node, info.Fail);
        int group = _attrs.Conv.Group;
        if (info.ConstantInput(1) is { DataType: DataType.Float, Rank: >= 3 } w && w.Shape[0] % group == 0 && w.Length > 0)
        {
            int cg = w.Shape[0] / group, rows = w.Length / w.Shape[0];
            fixed (float* pw = w.AsSpan<float>())
            {
                var packed = new GemmPackedA[group];
                for (int g = 0; g < group; g++)
                    packed[g] = new GemmPackedA(GemmKernelSet.Current, rows, cg, pw + (long)g * cg * rows, rows, transposed: true);
                _packed = packed;
            }
        }
    }

    /// <summary>One input and weight shape's sizes, geometry and output shape (cached per node).</summary>
    private sealed record Plan(Dims Dims, int[] OutputShape);

    private readonly ShapeKeyedCache<Plan> _plans = new();

    private Plan CreatePlan(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        int group = _attrs.Conv.Group;
        if (x.Rank < 3 || w.Rank != x.Rank)
            throw ctx.Fail($"input {ShapeMath.Format(x.Shape)} and weight {ShapeMath.Format(w.Shape)} need equal ranks of at least 3");
        int n = x.Shape[0], c = x.Shape[1], mg = w.Shape[1], m = mg * group;
        if (w.Shape[0] != c || c % group != 0)
            throw ctx.Fail($"input has {c} channels but weight {ShapeMath.Format(w.Shape)} with group {group} expects {w.Shape[0]}");
        var kernel = w.Shape[2..];
        if (_attrs.Conv.KernelShape is { } ks && !ks.SequenceEqual(kernel.ToArray().Select(k => (long)k)))
            throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] does not match weight shape {ShapeMath.Format(w.Shape)}");
        var geo = ConvTransposeGeometry.Compute(_attrs, x.Shape[2..], kernel, ctx.Fail);
        if (geo.Rank > 3) throw ctx.Fail("ConvTranspose over more than 3 spatial axes is not supported");
        return new Plan(new Dims(n, c, m, group, new Conv3D(geo)), [n, m, .. geo.Input]);
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var b = ctx.OptionalInput(2);
        if (x.DataType != w.DataType || (b is not null && b.DataType != x.DataType)) ConvKernels.RequireSameDtype(ctx, x, w, b);
        var (dims, shape) = _plans.Get(x.Shape, w.Shape, (this, ctx), static s => s.Item1.CreatePlan(s.ctx));
        int m = dims.OutChannels, size = dims.G.InputSize;
        if (b is not null && (b.Rank != 1 || b.Length != m)) throw ctx.Fail($"bias has shape {ShapeMath.Format(b.Shape)}; expected [{m}]");
        // col2im adds into Y, so it starts zeroed, unless every element is written exactly once (float32 only).
        var y = ctx.AllocateOutput(0, x.DataType, shape, clear: x.DataType != DataType.Float || !ConvCol2Im.IsPartition(dims.G));
        if (y.Length == 0) return;
        switch (x.DataType)
        {
            case DataType.Float:
                RunFloat(dims, x.AsSpan<float>(), w.AsSpan<float>(), y.AsSpan<float>(), _packed, ctx.Pool,
                    new Epilogue(b is not null ? b.AsSpan<float>() : default, b is not null, _activation));
                break;
            case DataType.Double:
                Direct<double>(dims, x.AsSpan<double>(), w.AsSpan<double>(), y.AsSpan<double>());
                if (b is not null) AddBias(y.AsSpan<double>(), b.AsSpan<double>(), m, size);
                break;
            default:
                var yf = new float[y.Length];
                RunFloat(dims, GemmFloatData.ToFloat(x), GemmFloatData.ToFloat(w), yf, null, ctx.Pool,
                    new Epilogue(b is not null ? GemmFloatData.ToFloat(b) : default, b is not null, FusedActivation.None));
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }

    private readonly record struct Dims(int Batch, int Channels, int OutChannels, int Group, Conv3D G)
    {
        public int Cg => Channels / Group;
        public int Mg => OutChannels / Group;
    }

    /// <summary>Y = act(Y + bias[channel]) per output plane; nothing to do without a bias or an activation.</summary>
    private readonly ref struct Epilogue(ReadOnlySpan<float> bias, bool hasBias, FusedActivation activation)
    {
        public readonly ReadOnlySpan<float> Bias = bias;
        public readonly FusedActivation Activation = activation;
        public bool Any => hasBias || Activation.Kind != ActivationKind.None;
    }

    private static void RunFloat(Dims d, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, GemmPackedA[]? packed, WorkerPool? pool, Epilogue epilogue)
    {
        var g = d.G;
        int cg = d.Cg, mg = d.Mg, rows = mg * g.KernelSize, inSize = g.OutputSize, outSize = g.InputSize;
        if (rows == 0 || inSize == 0) { ApplyEpilogue(y, epilogue, d.OutChannels, outSize); return; }
        int chunk = Math.Max(1, Math.Min(inSize, ColumnBufferFloats / rows));
        // A tiling kernel writes whole output rows for whole input rows: chunks of whole rows can finish their rows at once
        // (the head of the PP-OCR detector: 24×160×160 → 24×320×320 then Relu, 9.8 MB an image read and written once less).
        bool inCache = epilogue.Any && ConvCol2Im.IsPartition(g) && g.KD == 1;
        if (inCache) chunk = Math.Min(inSize, Math.Max(g.OW, chunk / g.OW * g.OW));
        var ks = packed?[0].Kernels ?? GemmKernelSet.Current;
        int parts = pool is null ? 1 : Math.Min(mg, pool.Threads * 2);
        fixed (float* px = x, pw = w, py = y, pb = epilogue.Bias)
        {
            float* col = GemmScratch.ForThread.Extra(rows * chunk);
            var act = epilogue.Activation;
            for (int n = 0; n < d.Batch; n++)
                for (int gi = 0; gi < d.Group; gi++)
                {
                    float* xg = px + ((long)n * d.Channels + gi * cg) * inSize;
                    float* yg = py + ((long)n * d.OutChannels + gi * mg) * outSize;
                    float* bg = pb == null ? null : pb + gi * mg;
                    for (int j0 = 0; j0 < inSize; j0 += chunk)
                    {
                        int nc = Math.Min(chunk, inSize - j0);
                        var bx = new GemmDenseB(xg + j0, inSize, false);
                        if (packed is not null) GemmCore.Multiply(ks, rows, nc, cg, packed[gi].AsOperand(), bx, col, nc, false, pool);
                        else GemmCore.Multiply(ks, rows, nc, cg, new GemmDenseA(pw + (long)gi * cg * rows, rows, true, 1), bx, col, nc, false, pool);
                        var scatter = new Col2ImJob(col, nc, mg, j0, yg, g, parts, inCache, bg, act);
                        if (parts == 1) scatter.Execute(0);
                        else pool!.Run(parts, scatter);
                    }
                }
        }
        if (!inCache) ApplyEpilogue(y, epilogue, d.OutChannels, outSize);
    }

    /// <summary>
    /// col2im for output channels [c0, c1): channels write disjoint planes, so they split across threads. With
    /// <paramref name="epilogue"/> (a tiling kernel, chunks of whole input rows) each channel's rows of this chunk get the bias
    /// and activation right after they are placed.
    /// </summary>
    private readonly struct Col2ImJob(float* col, int nc, int channels, int j0, float* image, Conv3D g, int parts, bool epilogue, float* bias,
        FusedActivation activation) : IParallelJob
    {
        public void Execute(int part)
        {
            int c0 = (int)((long)channels * part / parts), c1 = (int)((long)channels * (part + 1) / parts);
            if (!ConvCol2Im.IsPartition(g)) { ConvCol2Im.Add(col + (long)c0 * g.KernelSize * nc, nc, c1 - c0, j0, nc, image + (long)c0 * g.InputSize, g); return; }
            ConvCol2Im.Place(col + (long)c0 * g.KernelSize * nc, nc, c1 - c0, j0, nc, image + (long)c0 * g.InputSize, g);
            if (!epilogue) return;
            long from = (long)j0 / g.OW * g.SH * g.IW, count = (long)nc / g.OW * g.SH * g.IW;
            for (int c = c0; c < c1; c++) activation.ApplyRow(image + (long)c * g.InputSize + from, (int)count, bias == null ? 0 : bias[c], null);
        }
    }

    /// <summary>The epilogue as one pass over the finished output, plane by plane (geometries whose chunks do not own whole rows).</summary>
    private static void ApplyEpilogue(Span<float> y, Epilogue epilogue, int m, int size)
    {
        if (!epilogue.Any || size == 0) return;
        fixed (float* py = y)
            for (int i = 0; i < y.Length / size; i++)
                epilogue.Activation.ApplyRow(py + (long)i * size, size, epilogue.Bias.IsEmpty ? 0 : epilogue.Bias[i % m], null);
    }

    /// <summary>The definition, scattering every input element through the kernel: for float64.</summary>
    private static void Direct<T>(Dims d, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y) where T : INumberBase<T>
    {
        var g = d.G;
        int cg = d.Cg, mg = d.Mg, ksize = g.KernelSize, inSize = g.OutputSize, outSize = g.InputSize;
        for (int n = 0; n < d.Batch; n++)
            for (int c = 0; c < d.Channels; c++)
            {
                int gi = c / cg;
                var xc = x.Slice((n * d.Channels + c) * inSize, inSize);
                for (int mm = 0; mm < mg; mm++)
                {
                    var yc = y.Slice((n * d.OutChannels + gi * mg + mm) * outSize, outSize);
                    var wc = w.Slice((c * mg + mm) * ksize, ksize);
                    int j = 0;
                    for (int oz = 0; oz < g.OD; oz++)
                        for (int oy = 0; oy < g.OH; oy++)
                            for (int ox = 0; ox < g.OW; ox++, j++)
                            {
                                T v = xc[j];
                                int wi = 0;
                                for (int kz = 0; kz < g.KD; kz++)
                                    for (int ky = 0; ky < g.KH; ky++)
                                        for (int kx = 0; kx < g.KW; kx++, wi++)
                                        {
                                            int iz = oz * g.SD - g.PD + kz * g.LD, iy = oy * g.SH - g.PH + ky * g.LH, ix = ox * g.SW - g.PW + kx * g.LW;
                                            if ((uint)iz < (uint)g.ID && (uint)iy < (uint)g.IH && (uint)ix < (uint)g.IW)
                                                yc[(iz * g.IH + iy) * g.IW + ix] += v * wc[wi];
                                        }
                            }
                }
            }
    }

    private static void AddBias<T>(Span<T> y, ReadOnlySpan<T> b, int m, int size) where T : INumberBase<T>
    {
        for (int i = 0; i < y.Length / Math.Max(size, 1); i++)
        {
            T v = b[i % m];
            foreach (ref var e in y.Slice(i * size, size)) e += v;
        }
    }
}
