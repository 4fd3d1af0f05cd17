using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Col2Im: sums column blocks [N, C·∏block, L] back into images [N, C, ...image_shape] (PyTorch's fold, N-D).</summary>
[KernelRegistrations]
internal static class ShapeCol2ImKernels
{
    public static void Register(KernelRegistry r) => r.Add("Col2Im", info => new Col2ImKernel(
        info.GetInts("dilations")?.ToArray(), info.GetInts("pads")?.ToArray(), info.GetInts("strides")?.ToArray()));

    private sealed class Col2ImKernel(long[]? dilations, long[]? pads, long[]? strides) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            switch (x.DataType)
            {
                case DataType.Float: Fold<float>(ctx, x); break;
                case DataType.Double: Fold<double>(ctx, x); break;
                case DataType.Float16: Fold<Half>(ctx, x); break;
                case DataType.Int8: Fold<sbyte>(ctx, x); break;
                case DataType.Int16: Fold<short>(ctx, x); break;
                case DataType.Int32: Fold<int>(ctx, x); break;
                case DataType.Int64: Fold<long>(ctx, x); break;
                case DataType.UInt8: Fold<byte>(ctx, x); break;
                case DataType.UInt16: Fold<ushort>(ctx, x); break;
                case DataType.UInt32: Fold<uint>(ctx, x); break;
                case DataType.UInt64: Fold<ulong>(ctx, x); break;
                default: throw ctx.Fail($"Col2Im does not support {x.DataType.Name()}");
            }
        }

        private void Fold<T>(KernelContext ctx, Tensor x) where T : INumber<T>
        {
            var image = ShapeIntegers.Read(ctx.Input(1)).ToArray();
            var block = ShapeIntegers.Read(ctx.Input(2)).ToArray();
            int nd = image.Length;
            if (block.Length != nd) throw ctx.Fail($"image_shape has {nd} dims but block_shape has {block.Length}");
            if (x.Rank != 3) throw ctx.Fail($"input must be 3-D [N, C*prod(block), L], got {ShapeMath.Format(x.Shape)}");
            var dil = dilations ?? Enumerable.Repeat(1L, nd).ToArray();
            var pad = pads ?? new long[2 * nd];
            var str = strides ?? Enumerable.Repeat(1L, nd).ToArray();
            if (dil.Length != nd || str.Length != nd || pad.Length != 2 * nd) throw ctx.Fail("dilations, strides and pads must match the number of image dims");

            // Blocks along each dim: (image + pads - dilated block) / stride + 1.
            var blocks = new int[nd];
            for (int i = 0; i < nd; i++)
            {
                long b = (image[i] + pad[i] + pad[nd + i] - (dil[i] * (block[i] - 1) + 1)) / str[i] + 1;
                if (b < 1 || block[i] < 1 || image[i] < 1) throw ctx.Fail($"image_shape, block_shape, pads, strides and dilations give {b} blocks along dim {i}");
                blocks[i] = (int)b;
            }
            long kernel = block.Aggregate(1L, (p, v) => p * v), length = blocks.Aggregate(1L, (p, v) => p * v);
            int n = x.Shape[0];
            if (x.Shape[1] % kernel != 0) throw ctx.Fail($"dim 1 of {ShapeMath.Format(x.Shape)} is not divisible by the block size {kernel}");
            if (x.Shape[2] != length) throw ctx.Fail($"dim 2 of {ShapeMath.Format(x.Shape)} must be the number of blocks {length}");
            int c = x.Shape[1] / (int)kernel;
            var outShape = new[] { n, c }.Concat(image.Select(v => (int)v)).ToArray();
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            int imageSize = (int)image.Aggregate(1L, (p, v) => p * v);
            var imageStrides = ShapeMath.Strides(image.Select(v => (int)v).ToArray());

            var k = new int[nd];
            var p = new int[nd];
            int col = 0; // row of the input: one kernel offset of one channel
            for (int plane = 0; plane < n * c; plane++)
            {
                var outPlane = dst.Slice(plane * imageSize, imageSize);
                Array.Clear(k);
                for (int kk = 0; kk < kernel; kk++, col++)
                {
                    var row = src.Slice(col * (int)length, (int)length);
                    Array.Clear(p);
                    for (int l = 0; l < length; l++)
                    {
                        int offset = 0;
                        bool inside = true;
                        for (int i = 0; i < nd && inside; i++)
                        {
                            long pos = p[i] * str[i] - pad[i] + k[i] * dil[i];
                            inside = pos >= 0 && pos < image[i];
                            offset += (int)pos * imageStrides[i];
                        }
                        if (inside) outPlane[offset] += row[l];
                        for (int i = nd - 1; i >= 0 && ++p[i] == blocks[i]; i--) p[i] = 0;
                    }
                    for (int i = nd - 1; i >= 0 && ++k[i] == block[i]; i--) k[i] = 0;
                }
            }
        }
    }
}
