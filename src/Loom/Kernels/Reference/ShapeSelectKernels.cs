using System.Runtime.CompilerServices;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>NonZero and ReverseSequence: data-dependent selection and reordering.</summary>
[KernelRegistrations]
internal static class ShapeSelectKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("NonZero", _ => new NonZeroKernel());
        r.Add("ReverseSequence", info =>
        {
            long batch = info.GetInt("batch_axis", 1), time = info.GetInt("time_axis", 0);
            if (!((batch == 0 && time == 1) || (batch == 1 && time == 0))) throw info.Fail($"batch_axis {batch} and time_axis {time} must be 0 and 1 in some order");
            return new ReverseSequenceKernel(batch == 0);
        });
    }

    /// <summary>
    /// Which bits of an element must be non-zero for it to be non-zero: floats ignore the sign bit
    /// (-0.0 is zero); the "fnuz" float8 types and integers use every bit; float8e8m0 has no zero at all.
    /// </summary>
    private static ulong NonZeroMask(DataType dt) => dt switch
    {
        DataType.Float => 0x7FFF_FFFF,
        DataType.Double => 0x7FFF_FFFF_FFFF_FFFF,
        DataType.Float16 or DataType.BFloat16 => 0x7FFF,
        DataType.Float8E4M3FN or DataType.Float8E5M2 => 0x7F,
        DataType.Float4E2M1 => 0x07,
        DataType.Float8E8M0 => 0,
        _ => ulong.MaxValue,
    };

    /// <summary>The coordinates of the non-zero elements, [rank, count] in row-major order (a scalar counts as rank 1, as in ONNX Runtime).</summary>
    private sealed class NonZeroKernel : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.DataType == DataType.String) throw ctx.Fail("NonZero does not support strings");
            ulong mask = NonZeroMask(x.DataType);
            var src = ShapeStorage.Elements<T>(x);
            var hits = new List<int>();
            for (int i = 0; i < src.Length; i++)
                if (mask == 0 || (ToBits(src[i]) & mask) != 0) hits.Add(i);
            int rank = Math.Max(1, x.Rank), n = hits.Count;
            var y = ctx.AllocateOutput(0, DataType.Int64, [rank, n]).AsSpan<long>();
            if (x.Rank == 0) { for (int j = 0; j < n; j++) y[j] = 0; return; }
            var strides = ShapeMath.Strides(x.Shape);
            for (int j = 0; j < n; j++)
            {
                int rest = hits[j];
                for (int d = 0; d < rank; d++) { y[d * n + j] = rest / strides[d]; rest %= strides[d]; }
            }
        }

        /// <summary>The element's bits, widened (the type tests fold away when the JIT specialises T).</summary>
        private static ulong ToBits<T>(T v) =>
            typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref v)
            : typeof(T) == typeof(ushort) ? Unsafe.As<T, ushort>(ref v)
            : typeof(T) == typeof(uint) ? Unsafe.As<T, uint>(ref v)
            : Unsafe.As<T, ulong>(ref v);
    }

    /// <summary>Reverses the first sequence_lens[b] steps of each batch entry; later steps are copied as they are.</summary>
    private sealed class ReverseSequenceKernel(bool batchFirst) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2) throw ctx.Fail($"input must have rank 2 or more, got {ShapeMath.Format(x.Shape)}");
            var lens = ShapeIntegers.Read(ctx.Input(1));
            int batch = batchFirst ? x.Shape[0] : x.Shape[1], time = batchFirst ? x.Shape[1] : x.Shape[0];
            if (lens.Length != batch) throw ctx.Fail($"sequence_lens has {lens.Length} values for a batch of {batch}");
            int inner = (int)ShapeMath.Size(x.Shape[2..]);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            for (int b = 0; b < batch; b++)
            {
                long len = lens[b];
                if (len < 0 || len > time) throw ctx.Fail($"sequence length {len} of batch entry {b} is outside [0, {time}]");
                for (int t = 0; t < time; t++)
                {
                    int from = t < len ? (int)len - 1 - t : t;
                    src.Slice(Block(b, from, batch, time) * inner, inner).CopyTo(dst.Slice(Block(b, t, batch, time) * inner, inner));
                }
            }
        }

        private int Block(int b, int t, int batch, int time) => batchFirst ? b * time + t : t * batch + b;
    }
}
