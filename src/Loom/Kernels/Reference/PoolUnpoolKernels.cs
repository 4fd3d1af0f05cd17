using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>MaxUnpool and MaxRoiPool.</summary>
[KernelRegistrations]
internal static class PoolUnpoolKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("MaxUnpool", info => ConvKernels.Guard(ConvKernels.FloatTypes, new MaxUnpoolKernel(info)), 9);
        r.Add("MaxRoiPool", info => ConvKernels.Guard(ConvKernels.FloatTypes, new MaxRoiPoolKernel(info)), 1);
    }
}

/// <summary>
/// Scatters X to the flat positions in I of the shape a MaxPool with these attributes came from. With
/// output_shape the result is placed at the start of each axis of the requested shape (cut or
/// zero-extended), as ONNX's reference does.
/// </summary>
internal sealed class MaxUnpoolKernel : Kernel
{
    private readonly int[] _kernel;
    private readonly long[]? _strides, _pads;

    public MaxUnpoolKernel(KernelInfo info)
    {
        _kernel = (info.GetInts("kernel_shape") ?? throw info.Fail("kernel_shape is required")).Select(k => (int)k).ToArray();
        _strides = info.GetInts("strides")?.ToArray();
        _pads = info.GetInts("pads")?.ToArray();
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var idx = ctx.Input(1);
        int rank = x.Rank - 2;
        if (rank < 1 || rank != _kernel.Length) throw ctx.Fail($"input {ShapeMath.Format(x.Shape)} does not match kernel_shape of {_kernel.Length} axes");
        if (!idx.Shape.SequenceEqual(x.Shape)) throw ctx.Fail($"indices {ShapeMath.Format(idx.Shape)} must have the shape of X {ShapeMath.Format(x.Shape)}");
        var inferred = x.Shape.ToArray();
        for (int i = 0; i < rank; i++)
        {
            long s = _strides is { } st ? st[i] : 1, p = _pads is { } pd ? pd[i] + pd[i + rank] : 0;
            inferred[i + 2] = checked((int)((x.Shape[i + 2] - 1) * s - p + _kernel[i]));
        }
        var shape = inferred;
        if (ctx.OptionalInput(2) is { } os)
        {
            shape = os.AsSpan<long>().ToArray().Select(v => checked((int)v)).ToArray();
            if (shape.Length != x.Rank) throw ctx.Fail($"output_shape has {shape.Length} values for an input of rank {x.Rank}");
        }
        var y = ctx.AllocateOutput(0, x.DataType, shape);
        var scattered = shape.SequenceEqual(inferred) ? y : Tensor.Zeros(x.DataType, inferred);
        var where = idx.AsSpan<long>();
        long limit = ShapeMath.Size(inferred);
        foreach (var i in where)
            if (i < 0 || i >= limit) throw ctx.Fail($"index {i} is outside the unpooled shape {ShapeMath.Format(inferred)}");
        switch (x.DataType)
        {
            case DataType.Float: Scatter<float>(x, where, scattered); break;
            case DataType.Double: Scatter<double>(x, where, scattered); break;
            case DataType.Float16: Scatter<Half>(x, where, scattered); break;
            case DataType.BFloat16: Scatter<BFloat16>(x, where, scattered); break;
        }
        if (!ReferenceEquals(scattered, y)) CopyRegion(scattered, y);
    }

    private static void Scatter<T>(Tensor x, ReadOnlySpan<long> where, Tensor y)
    {
        var src = x.AsSpan<T>();
        var dst = y.AsSpan<T>();
        for (int i = 0; i < src.Length; i++) dst[(int)where[i]] = src[i];
    }

    /// <summary>Copies the overlap of two same-rank tensors, anchored at index 0 on every axis.</summary>
    private static void CopyRegion(Tensor src, Tensor dst)
    {
        int rank = src.Rank;
        var common = new int[rank];
        for (int d = 0; d < rank; d++) common[d] = Math.Min(src.Shape[d], dst.Shape[d]);
        if (ShapeMath.Size(common) == 0) return;
        var ss = ShapeMath.Strides(src.Shape);
        var ds = ShapeMath.Strides(dst.Shape);
        var index = new int[rank];
        int rows = (int)(ShapeMath.Size(common) / common[rank - 1]);
        for (int r = 0; r < rows; r++)
        {
            int so = 0, dof = 0;
            for (int d = 0; d < rank - 1; d++) { so += index[d] * ss[d]; dof += index[d] * ds[d]; }
            Array.Copy(src.Buffer, src.Offset + so, dst.Buffer, dst.Offset + dof, common[rank - 1]);
            for (int d = rank - 2; d >= 0 && ++index[d] == common[d]; d--) index[d] = 0;
        }
    }
}

/// <summary>
/// Max pooling over regions of interest (Fast R-CNN): each RoI [batch, x1, y1, x2, y2], scaled and
/// rounded, is divided into pooled_shape bins; an empty bin gives 0.
/// </summary>
internal sealed class MaxRoiPoolKernel : Kernel
{
    private readonly int _ph, _pw;
    private readonly float _scale;

    public MaxRoiPoolKernel(KernelInfo info)
    {
        var pooled = info.GetInts("pooled_shape") ?? throw info.Fail("pooled_shape is required");
        if (pooled.Length != 2 || pooled[0] < 1 || pooled[1] < 1) throw info.Fail("pooled_shape must be two positive sizes");
        (_ph, _pw) = ((int)pooled[0], (int)pooled[1]);
        _scale = info.GetFloat("spatial_scale", 1);
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var rois = ctx.Input(1);
        if (x.Rank != 4) throw ctx.Fail($"input has shape {ShapeMath.Format(x.Shape)}; it must be [N, C, H, W]");
        if (rois.Rank != 2 || rois.Shape[1] != 5) throw ctx.Fail($"rois has shape {ShapeMath.Format(rois.Shape)}; it must be [R, 5]");
        var y = ctx.AllocateOutput(0, x.DataType, [rois.Shape[0], x.Shape[1], _ph, _pw]);
        switch (x.DataType)
        {
            case DataType.Float: Pool<float>(ctx, x.AsSpan<float>(), x.Shape, rois.AsSpan<float>(), y.AsSpan<float>()); break;
            case DataType.Double: Pool<double>(ctx, x.AsSpan<double>(), x.Shape, rois.AsSpan<double>(), y.AsSpan<double>()); break;
            default:
                var yf = new float[y.Length];
                Pool<float>(ctx, GemmFloatData.ToFloat(x), x.Shape, GemmFloatData.ToFloat(rois), yf);
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }

    private void Pool<T>(KernelContext ctx, ReadOnlySpan<T> x, ReadOnlySpan<int> shape, ReadOnlySpan<T> rois, Span<T> y)
        where T : IFloatingPointIeee754<T>
    {
        int n = shape[0], channels = shape[1], height = shape[2], width = shape[3];
        int o = 0;
        for (int r = 0; r < rois.Length / 5; r++)
        {
            var roi = rois.Slice(r * 5, 5);
            int batch = int.CreateTruncating(roi[0]);
            if (batch < 0 || batch >= n) throw ctx.Fail($"RoI {r} refers to batch item {batch} of {n}");
            int Scaled(T v) => (int)MathF.Round(float.CreateTruncating(v) * _scale, MidpointRounding.AwayFromZero);
            int x1 = Scaled(roi[1]), y1 = Scaled(roi[2]), x2 = Scaled(roi[3]), y2 = Scaled(roi[4]);
            // float arithmetic, as ONNX Runtime bins
            float binH = Math.Max(y2 - y1 + 1, 1) / (float)_ph, binW = Math.Max(x2 - x1 + 1, 1) / (float)_pw;
            for (int c = 0; c < channels; c++)
            {
                var plane = x.Slice((batch * channels + c) * height * width, height * width);
                for (int ph = 0; ph < _ph; ph++)
                {
                    int hs = Math.Clamp((int)MathF.Floor(ph * binH) + y1, 0, height), he = Math.Clamp((int)MathF.Ceiling((ph + 1) * binH) + y1, 0, height);
                    for (int pw = 0; pw < _pw; pw++, o++)
                    {
                        int ws = Math.Clamp((int)MathF.Floor(pw * binW) + x1, 0, width), we = Math.Clamp((int)MathF.Ceiling((pw + 1) * binW) + x1, 0, width);
                        if (he <= hs || we <= ws) { y[o] = T.Zero; continue; }
                        T best = T.NegativeInfinity;
                        for (int h = hs; h < he; h++)
                            for (int w = ws; w < we; w++)
                                if (plane[h * width + w] > best) best = plane[h * width + w];
                        y[o] = best;
                    }
                }
            }
        }
    }
}
