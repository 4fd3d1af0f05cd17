using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// Where(condition, X, Y) for 4- and 8-byte elements (float32, int32, int64, float64: a select moves
/// bits, so one loop per element size serves every type) with three-way broadcasting: each row of the
/// <see cref="BroadcastPlan"/> is a SIMD select with the bool condition widened to lane masks, or a copy
/// when the condition is one value along the row. Other element types go to the reference kernel.
/// </summary>
[KernelRegistrations]
internal static class ElementwiseFastWhere
{
    public static void Register(KernelRegistry r) =>
        r.Add("Where", info => new WhereKernel(ReferenceKernels.Create(info)), 9, typeInput: 1, priority: ElementwiseFastKernels.Priority,
            types: [DataType.Float, DataType.Int32, DataType.UInt32, DataType.Int64, DataType.UInt64, DataType.Double]);

    private sealed class WhereKernel(Kernel reference) : Kernel
    {
        private BroadcastPlan? _plan;

        public override void Run(KernelContext ctx)
        {
            Tensor c = ctx.Input(0), x = ctx.Input(1), y = ctx.Input(2);
            int size = x.DataType.ElementSize();
            if (c.DataType != DataType.Bool || x.DataType != y.DataType || size is not (4 or 8) || Plan(c, x, y) is not { } plan)
            {
                reference.Run(ctx);
                return;
            }
            var o = ctx.AllocateOutput(0, x.DataType, plan.OutputShape, clear: false);
            if (size == 4) ElementwiseParallel.For(ctx.Pool, plan.OutputLength, new SelectJob<uint>(plan, c, x, y, o));
            else ElementwiseParallel.For(ctx.Pool, plan.OutputLength, new SelectJob<ulong>(plan, c, x, y, o));
        }

        private BroadcastPlan? Plan(Tensor c, Tensor x, Tensor y)
        {
            var plan = Volatile.Read(ref _plan);
            if (plan is not null && plan.Matches(c.Shape, x.Shape, y.Shape)) return plan;
            if (!BroadcastPlan.CanBroadcast(c.Shape, x.Shape) || !BroadcastPlan.CanBroadcast(c.Shape, y.Shape) || !BroadcastPlan.CanBroadcast(x.Shape, y.Shape)) return null;
            plan = BroadcastPlan.Create(c.Dims, x.Dims, y.Dims);
            if (!plan.SupportsCursor) return null;
            Volatile.Write(ref _plan, plan);
            return plan;
        }
    }

    /// <summary>Output elements [start, end): rows of the plan, T the element's bits (uint or ulong).</summary>
    private readonly struct SelectJob<T>(BroadcastPlan plan, Tensor cond, Tensor x, Tensor y, Tensor output) : IRangeJob where T : unmanaged
    {
        public void Run(int start, int end)
        {
            var c = cond.AsReadOnlySpan<bool>();
            var a = Bits(x);
            var b = Bits(y);
            var o = Bits(output);
            int inner = plan.InnerLength, sc = plan.InnerStride(0), sa = plan.InnerStride(1), sb = plan.InnerStride(2);
            int col = start % inner;
            var row = plan.CursorAt(start / inner);
            while (start < end)
            {
                int n = Math.Min(inner - col, end - start);
                var dst = o.Slice(start, n);
                var xa = a[(row.Offset1 + col * sa)..];
                var yb = b[(row.Offset2 + col * sb)..];
                if (sc == 0)
                {
                    // One condition for the whole row: a copy of one side (or one value).
                    if (c[row.Offset0]) Copy(xa, sa, dst);
                    else Copy(yb, sb, dst);
                }
                else Select(c.Slice(row.Offset0 + col, n), xa, sa, yb, sb, dst);
                start += n;
                col = 0;
                row.Next();
            }
        }

        private static void Copy(ReadOnlySpan<T> source, int stride, Span<T> dst)
        {
            if (stride == 1) source[..dst.Length].CopyTo(dst);
            else dst.Fill(source[0]);
        }

        private static Span<T> Bits(Tensor t) =>
            MemoryMarshal.Cast<byte, T>(t.DataType switch
            {
                DataType.Float => MemoryMarshal.AsBytes(t.AsSpan<float>()),
                DataType.Int32 => MemoryMarshal.AsBytes(t.AsSpan<int>()),
                DataType.UInt32 => MemoryMarshal.AsBytes(t.AsSpan<uint>()),
                DataType.Int64 => MemoryMarshal.AsBytes(t.AsSpan<long>()),
                DataType.UInt64 => MemoryMarshal.AsBytes(t.AsSpan<ulong>()),
                _ => MemoryMarshal.AsBytes(t.AsSpan<double>()),
            });

        /// <summary>dst[i] = c[i] ? x[i·sx] : y[i·sy] with x and y each advancing (stride 1) or repeating (0).</summary>
        private static void Select(ReadOnlySpan<bool> c, ReadOnlySpan<T> x, int sx, ReadOnlySpan<T> y, int sy, Span<T> dst)
        {
            ref byte cs = ref Unsafe.As<bool, byte>(ref MemoryMarshal.GetReference(c));
            ref T xs = ref MemoryMarshal.GetReference(x);
            ref T ys = ref MemoryMarshal.GetReference(y);
            ref T ds = ref MemoryMarshal.GetReference(dst);
            nuint n = (nuint)dst.Length, i = 0, lanes = (nuint)Vector256<T>.Count;
            if (Vector256.IsHardwareAccelerated)
            {
                var xv = Vector256.Create(xs);
                var yv = Vector256.Create(ys);
                for (; i + lanes <= n; i += lanes)
                {
                    var mask = Mask256(ref cs, i);
                    if (sx == 1) xv = Vector256.LoadUnsafe(ref xs, i);
                    if (sy == 1) yv = Vector256.LoadUnsafe(ref ys, i);
                    Vector256.ConditionalSelect(mask, xv, yv).StoreUnsafe(ref ds, i);
                }
            }
            for (; i < n; i++)
                Unsafe.Add(ref ds, i) = Unsafe.Add(ref cs, i) != 0 ? Unsafe.Add(ref xs, i * (nuint)sx) : Unsafe.Add(ref ys, i * (nuint)sy);
        }

        /// <summary>Lanes all ones where the bool at that lane is true: the bool bytes zero-extended to the lane width and compared with 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Mask256(ref byte c, nuint i)
        {
            if (typeof(T) == typeof(uint))
            {
                var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref c, i))).AsByte();
                var words = Vector128.WidenLower(bytes);
                var lanes = Vector256.Create(Vector128.WidenLower(words), Vector128.WidenUpper(words));
                return (~Vector256.Equals(lanes, Vector256<uint>.Zero)).As<uint, T>();
            }
            else
            {
                var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref c, i))).AsByte();
                var words = Vector128.WidenLower(Vector128.WidenLower(bytes));
                var lanes = Vector256.Create(Vector128.WidenLower(words), Vector128.WidenUpper(words));
                return (~Vector256.Equals(lanes, Vector256<ulong>.Zero)).As<ulong, T>();
            }
        }
    }
}
