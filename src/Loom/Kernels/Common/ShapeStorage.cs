using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// Data-movement kernels do not care what an element means, only how wide it is. So they view every
/// tensor as elements of <c>byte</c>, <c>ushort</c>, <c>uint</c>, <c>ulong</c> or <c>string</c>: one
/// generic implementation then serves every dtype (bool, float16, bfloat16, float8, int4 included) and
/// the JIT compiles it five times instead of once per dtype.
/// </summary>
internal static class ShapeStorage
{
    /// <summary>Calls <c>action.Run&lt;T&gt;()</c> with the storage type of the given width.</summary>
    public static void Dispatch<TAction>(DataType dataType, ref TAction action) where TAction : struct, IStorageAction
    {
        if (dataType == DataType.String) { action.Run<string>(); return; }
        switch (dataType.ElementSize())
        {
            case 1: action.Run<byte>(); break;
            case 2: action.Run<ushort>(); break;
            case 4: action.Run<uint>(); break;
            case 8: action.Run<ulong>(); break;
            default: throw new UnsupportedException($"data type {dataType.Name()} is not supported by this operator");
        }
    }

    /// <summary>
    /// The elements of <paramref name="t"/> as <typeparamref name="T"/>: its own storage type, or an
    /// unmanaged type of the same width (a float tensor viewed as <c>uint</c>).
    /// </summary>
    public static Span<T> Elements<T>(Tensor t)
    {
        if (t.Buffer is T[] array) return new Span<T>(array, t.Offset, t.Length);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() || t.DataType == DataType.String
            || Unsafe.SizeOf<T>() != t.DataType.ElementSize())
            throw new InvalidOperationException($"a {t.DataType.Name()} tensor cannot be viewed as {typeof(T).Name}");
        ref byte first = ref MemoryMarshal.GetArrayDataReference(t.Buffer);
        return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref Unsafe.As<byte, T>(ref first), t.Offset), t.Length);
    }

    /// <summary>A view of <paramref name="t"/>'s elements [<paramref name="start"/>, start+count) with a new shape, sharing its buffer.</summary>
    public static Tensor Window(Tensor t, int start, int[] shape) => new(t.DataType, shape, t.Buffer, t.Offset + start);
}

/// <summary>Work done with one storage type; implemented by structs so the JIT specialises it per type.</summary>
internal interface IStorageAction
{
    void Run<T>();
}

/// <summary>
/// A kernel whose work only moves elements: <see cref="Execute{T}"/> is written once, generic over the
/// storage type picked from the dtype of input <see cref="DataInput"/> (or output 0 when it has no such input).
/// </summary>
internal abstract class StorageKernel : Kernel
{
    protected virtual int DataInput => 0;

    /// <summary>The dtype that picks the storage type; by default that of the data input.</summary>
    protected virtual DataType StorageType(KernelContext ctx) => ctx.Input(DataInput).DataType;

    public sealed override void Run(KernelContext ctx)
    {
        var dt = StorageType(ctx);
        if (dt == DataType.String) { Execute<string>(ctx); return; }
        switch (dt.ElementSize())
        {
            case 1: Execute<byte>(ctx); break;
            case 2: Execute<ushort>(ctx); break;
            case 4: Execute<uint>(ctx); break;
            case 8: Execute<ulong>(ctx); break;
            default: throw ctx.Fail($"data type {dt.Name()} is not supported");
        }
    }

    protected abstract void Execute<T>(KernelContext ctx);
}
