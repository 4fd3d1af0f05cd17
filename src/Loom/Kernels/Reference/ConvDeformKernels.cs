using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>DeformConv (opsets 19, 22) over 1 to 3 spatial axes.</summary>
[KernelRegistrations]
internal static class ConvDeformKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("DeformConv", info => ConvKernels.Guard(ConvKernels.FloatTypes, new DeformConvKernel(info)), 19);
    }
}

/// <summary>
/// Deformable convolution: each kernel tap samples X at its regular position plus a learned offset,
/// by multilinear interpolation (samples outside X read 0), scaled by the optional mask. The samples
/// form a column matrix per image (like im2col), multiplied by each group's weights.
/// </summary>
internal sealed class DeformConvKernel(KernelInfo info) : Kernel
{
    private readonly ConvAttributes _attrs = ConvAttributes.Parse(info.Node, info.Fail);
    private readonly int _offsetGroups = (int)info.GetInt("offset_group", 1);

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var offset = ctx.Input(2);
        var b = ctx.OptionalInput(3);
        var mask = ctx.OptionalInput(4);
        ConvKernels.RequireSameDtype(ctx, x, w, offset, b, mask);
        var p = ConvProblem.Create(_attrs, x.Shape, w.Shape, ctx.Fail);
        var g = p.As3D(ctx.Fail);
        int rank = p.Geometry.Rank, ksize = g.KernelSize, outSize = g.OutputSize;
        if (_offsetGroups < 1 || p.Channels % _offsetGroups != 0) throw ctx.Fail($"{p.Channels} channels are not divisible by offset_group {_offsetGroups}");
        int[] offsetShape = [p.Batch, _offsetGroups * ksize * rank, .. p.Geometry.Output];
        if (!offset.Shape.SequenceEqual(offsetShape)) throw ctx.Fail($"offset has shape {ShapeMath.Format(offset.Shape)}; expected {ShapeMath.Format(offsetShape)}");
        int[] maskShape = [p.Batch, _offsetGroups * ksize, .. p.Geometry.Output];
        if (mask is not null && !mask.Shape.SequenceEqual(maskShape)) throw ctx.Fail($"mask has shape {ShapeMath.Format(mask.Shape)}; expected {ShapeMath.Format(maskShape)}");
        if (b is not null && b.Length != p.OutChannels) throw ctx.Fail($"bias has {b.Length} values; expected {p.OutChannels}");
        var y = ctx.AllocateOutput(0, x.DataType, p.OutputShape);
        if (y.Length == 0) return;
        if (x.DataType == DataType.Double)
        {
            Compute<double>(p, g, x.AsSpan<double>(), w.AsSpan<double>(), offset.AsSpan<double>(), mask is null ? default : mask.AsSpan<double>(),
                b is null ? default : b.AsSpan<double>(), y.AsSpan<double>());
            return;
        }
        var yf = y.DataType == DataType.Float ? y.AsSpan<float>() : new float[y.Length];
        Compute<float>(p, g, GemmFloatData.ToFloat(x), GemmFloatData.ToFloat(w), GemmFloatData.ToFloat(offset),
            mask is null ? default : GemmFloatData.ToFloat(mask), b is null ? default : GemmFloatData.ToFloat(b), yf);
        if (y.DataType != DataType.Float) GemmFloatData.FromFloat(yf, y);
    }

    private void Compute<T>(ConvProblem p, Conv3D g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> offset, ReadOnlySpan<T> mask,
        ReadOnlySpan<T> bias, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        int rank = p.Geometry.Rank, ksize = g.KernelSize, outSize = g.OutputSize, inSize = g.InputSize;
        int cg = p.ChannelsPerGroup, mg = p.OutChannelsPerGroup, depth = p.GroupDepth, channelsPerOffsetGroup = p.Channels / _offsetGroups;
        var col = new T[p.Channels * ksize * outSize];
        var groupOut = new T[mg * outSize];
        for (int n = 0; n < p.Batch; n++)
        {
            var xn = x.Slice(n * p.Channels * inSize, p.Channels * inSize);
            for (int og = 0; og < _offsetGroups; og++)
            {
                int kpos = 0;
                for (int kz = 0; kz < g.KD; kz++)
                    for (int ky = 0; ky < g.KH; ky++)
                        for (int kx = 0; kx < g.KW; kx++, kpos++)
                        {
                            int o = 0;
                            for (int oz = 0; oz < g.OD; oz++)
                                for (int oy = 0; oy < g.OH; oy++)
                                    for (int ox = 0; ox < g.OW; ox++, o++)
                                    {
                                        // Offsets exist only for the real axes; lifted axes (size 1) stay at 0.
                                        int off0 = ((n * _offsetGroups + og) * ksize + kpos) * rank - (3 - rank);
                                        T pz = T.CreateTruncating(oz * g.SD - g.PD + kz * g.LD) + (rank < 3 ? T.Zero : offset[(off0 + 0) * outSize + o]);
                                        T py = T.CreateTruncating(oy * g.SH - g.PH + ky * g.LH) + (rank < 2 ? T.Zero : offset[(off0 + 1) * outSize + o]);
                                        T px = T.CreateTruncating(ox * g.SW - g.PW + kx * g.LW) + offset[(off0 + 2) * outSize + o];
                                        T m = mask.IsEmpty ? T.One : mask[((n * _offsetGroups + og) * ksize + kpos) * outSize + o];
                                        for (int c = og * channelsPerOffsetGroup; c < (og + 1) * channelsPerOffsetGroup; c++)
                                            col[(c * ksize + kpos) * outSize + o] = m * Sample(xn.Slice(c * inSize, inSize), g, pz, py, px);
                                    }
                        }
            }
            for (int gi = 0; gi < p.Group; gi++)
            {
                GemmNaive.Multiply<T>(mg, outSize, depth, w.Slice(gi * mg * depth, mg * depth), depth, false,
                    col.AsSpan(gi * cg * ksize * outSize, depth * outSize), outSize, false, groupOut, outSize);
                for (int mm = 0; mm < mg; mm++)
                {
                    int ch = gi * mg + mm;
                    var dst = y.Slice((n * p.OutChannels + ch) * outSize, outSize);
                    T bv = bias.IsEmpty ? T.Zero : bias[ch];
                    for (int o = 0; o < outSize; o++) dst[o] = groupOut[mm * outSize + o] + bv;
                }
            }
        }
    }

    /// <summary>Multilinear interpolation of a plane at a fractional position; corners outside read 0.</summary>
    private static T Sample<T>(ReadOnlySpan<T> plane, Conv3D g, T z, T y, T x) where T : IFloatingPointIeee754<T>
    {
        T z0 = T.Floor(z), y0 = T.Floor(y), x0 = T.Floor(x);
        T fz = z - z0, fy = y - y0, fx = x - x0;
        int iz = int.CreateSaturating(z0), iy = int.CreateSaturating(y0), ix = int.CreateSaturating(x0);
        T sum = T.Zero;
        for (int dz = 0; dz < 2; dz++)
        {
            T wz = dz == 0 ? T.One - fz : fz;
            int zz = iz + dz;
            if (T.IsZero(wz) || (uint)zz >= (uint)g.ID) continue;
            for (int dy = 0; dy < 2; dy++)
            {
                T wy = dy == 0 ? T.One - fy : fy;
                int yy = iy + dy;
                if (T.IsZero(wy) || (uint)yy >= (uint)g.IH) continue;
                for (int dx = 0; dx < 2; dx++)
                {
                    T wx = dx == 0 ? T.One - fx : fx;
                    int xx = ix + dx;
                    if (T.IsZero(wx) || (uint)xx >= (uint)g.IW) continue;
                    sum += wz * wy * wx * plane[(zz * g.IH + yy) * g.IW + xx];
                }
            }
        }
        return sum;
    }
}
