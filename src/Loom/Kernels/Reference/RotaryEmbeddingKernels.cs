using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>RotaryEmbedding (opset 23+): rotates pairs of each head's first rotary_embedding_dim features.</summary>
[KernelRegistrations]
internal static class RotaryEmbeddingKernels
{
    private static readonly DataType[] FloatTypes = [DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16];

    public static void Register(KernelRegistry r) => r.Add("RotaryEmbedding", Create, 23, types: FloatTypes);

    private static Kernel Create(KernelInfo info)
    {
        long numHeads = info.GetInt("num_heads", 0), rotaryDim = info.GetInt("rotary_embedding_dim", 0);
        if (numHeads < 0) throw info.Fail($"num_heads must be positive, got {numHeads}");
        if (rotaryDim < 0 || rotaryDim % 2 != 0) throw info.Fail($"rotary_embedding_dim must be even and nonnegative, got {rotaryDim}");
        return new RotaryEmbeddingKernel(info.GetInt("interleaved", 0) != 0, (int)numHeads, (int)rotaryDim);
    }

    private sealed class RotaryEmbeddingKernel(bool interleaved, int numHeads, int rotaryDim) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (SequenceNumerics.ComputesInDouble(x.DataType)) Run<double>(ctx, x);
            else Run<float>(ctx, x);
        }

        private void Run<T>(KernelContext ctx, Tensor x) where T : struct, IFloatingPointIeee754<T>
        {
            Tensor cosCache = ctx.Input(1), sinCache = ctx.Input(2);
            var positions = ctx.OptionalInput(3);

            // View the input as (batch, seq, heads, size) through strides, for either layout.
            int batch, seq, heads, size, seqStride, headStride;
            if (x.Rank == 4)
            {
                (batch, heads, seq, size) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
                (headStride, seqStride) = (seq * size, size);
            }
            else if (x.Rank == 3)
            {
                if (numHeads == 0) throw ctx.Fail("a 3-D input needs the num_heads attribute");
                (batch, seq, heads) = (x.Shape[0], x.Shape[1], numHeads);
                if (x.Shape[2] % heads != 0) throw ctx.Fail($"hidden size {x.Shape[2]} is not a multiple of num_heads {heads}");
                size = x.Shape[2] / heads;
                (headStride, seqStride) = (size, heads * size);
            }
            else throw ctx.Fail($"input must be 3-D or 4-D, got shape {ShapeMath.Format(x.Shape)}");

            int rot = rotaryDim == 0 ? size : rotaryDim;
            if (rot > size || rot % 2 != 0) throw ctx.Fail($"rotary_embedding_dim {rot} must be even and at most the head size {size}");
            int half = rot / 2;
            var (cos, sin, width) = Caches<T>(ctx, cosCache, sinCache, positions, batch, seq, half);

            var data = SequenceNumerics.Read<T>(x);
            for (int b = 0; b < batch; b++)
                for (int s = 0; s < seq; s++)
                {
                    int row = b * seq + s;
                    var c = cos.AsSpan(row * width, half);
                    var sn = sin.AsSpan(row * width, half);
                    for (int h = 0; h < heads; h++)
                        Rotate(data.AsSpan(b * heads * seq * size + h * headStride + s * seqStride, rot), c, sn, interleaved);
                }
            SequenceNumerics.Write<T>(ctx, 0, x.DataType, x.Shape, data);
        }

        /// <summary>
        /// cos and sin for each (batch, seq) row, <c>width</c> apart, of which the first <paramref name="half"/>
        /// are used: gathered by position_ids from (max_position, width) caches, or (batch, seq, width) caches as is.
        /// </summary>
        private static (T[] Cos, T[] Sin, int Width) Caches<T>(KernelContext ctx, Tensor cosCache, Tensor sinCache, Tensor? positions,
            int batch, int seq, int half) where T : struct, IFloatingPointIeee754<T>
        {
            if (!cosCache.Shape.SequenceEqual(sinCache.Shape))
                throw ctx.Fail($"cos_cache {ShapeMath.Format(cosCache.Shape)} and sin_cache {ShapeMath.Format(sinCache.Shape)} differ in shape");
            int width = cosCache.Rank > 0 ? cosCache.Shape[^1] : 0;
            // Caches wider than rotary_embedding_dim/2 are accepted and sliced, as ONNX 1.18's reference does.
            if (width < half) throw ctx.Fail($"the caches' last dim {width} is smaller than rotary_embedding_dim/2 = {half}");
            T[] cos = SequenceNumerics.Read<T>(cosCache), sin = SequenceNumerics.Read<T>(sinCache);
            if (positions is null)
            {
                if (!cosCache.Shape.SequenceEqual([batch, seq, width]))
                    throw ctx.Fail($"without position_ids the caches must have shape [{batch},{seq},{width}], got {ShapeMath.Format(cosCache.Shape)}");
                return (cos, sin, width);
            }
            if (positions.DataType != DataType.Int64) throw ctx.Fail($"position_ids must be int64, got {positions.DataType.Name()}");
            if (cosCache.Rank != 2) throw ctx.Fail($"with position_ids the caches must be 2-D, got {ShapeMath.Format(cosCache.Shape)}");
            if (!positions.Shape.SequenceEqual([batch, seq]))
                throw ctx.Fail($"position_ids must have shape [{batch},{seq}], got {ShapeMath.Format(positions.Shape)}");
            var ids = positions.ToArray<long>();
            T[] c = new T[ids.Length * width], s = new T[ids.Length * width];
            int max = cosCache.Shape[0];
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] < 0 || ids[i] >= max) throw ctx.Fail($"position id {ids[i]} is outside the caches' {max} rows");
                cos.AsSpan((int)ids[i] * width, width).CopyTo(c.AsSpan(i * width));
                sin.AsSpan((int)ids[i] * width, width).CopyTo(s.AsSpan(i * width));
            }
            return (c, s, width);
        }

        /// <summary>Rotates feature pairs (i, i + half), or (2i, 2i + 1) when interleaved, by the angles given as cos/sin.</summary>
        private static void Rotate<T>(Span<T> v, ReadOnlySpan<T> cos, ReadOnlySpan<T> sin, bool interleaved) where T : struct, IFloatingPointIeee754<T>
        {
            int half = cos.Length;
            for (int i = 0; i < half; i++)
            {
                int i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
                T x1 = v[i1], x2 = v[i2];
                v[i1] = cos[i] * x1 - sin[i] * x2;
                v[i2] = sin[i] * x1 + cos[i] * x2;
            }
        }
    }
}
