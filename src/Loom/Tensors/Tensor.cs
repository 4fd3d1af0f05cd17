using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Loom.IR;

namespace Loom;

/// <summary>
/// A dense, row-major tensor: a dtype, a concrete shape and a typed element buffer. The buffer may be
/// a window (offset, length) of a larger array, so reshapes are free views and a memory planner can hand
/// out slices of one arena. Loom treats a tensor as immutable once a kernel has produced it.
/// </summary>
public sealed class Tensor : LoomValue
{
    private readonly int[] _dims;
    private readonly Array _buffer;
    private readonly int _offset;

    internal Tensor(DataType dataType, int[] dims, Array buffer, int offset)
    {
        DataType = dataType;
        _dims = dims;
        _buffer = buffer;
        _offset = offset;
        Length = checked((int)ShapeMath.Size(dims));
        if (buffer.GetType().GetElementType() != dataType.ClrType())
            throw new ArgumentException($"a {dataType.Name()} tensor cannot be stored in {buffer.GetType().Name}");
        if (offset < 0 || offset + (long)Length > buffer.Length)
            throw new ArgumentException($"buffer of {buffer.Length} elements cannot hold {Length} from offset {offset}");
    }

    public DataType DataType { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _dims;

    /// <summary>The dims array itself, for kernels; never mutate it.</summary>
    internal int[] Dims => _dims;

    public int Rank => _dims.Length;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    internal Array Buffer => _buffer;
    internal int Offset => _offset;

    public override IrType Type => new TensorType(DataType, IR.Shape.Of(_dims));

    /// <summary>A new zero-filled tensor (empty strings for string tensors).</summary>
    public static Tensor Zeros(DataType dataType, ReadOnlySpan<int> shape)
    {
        var dims = shape.ToArray();
        long n = ShapeMath.Size(dims);
        if (n > Array.MaxLength) throw new ResourceLimitException($"a tensor of shape {ShapeMath.Format(dims)} has too many elements");
        var buffer = Array.CreateInstance(dataType.ClrType(), (int)n);
        if (dataType == DataType.String) Array.Fill((string[])buffer, string.Empty);
        return new Tensor(dataType, dims, buffer, 0);
    }

    /// <summary>Wraps an array without copying; <paramref name="dataType"/> picks among dtypes stored the same way (uint8 vs float8, int8 vs int4).</summary>
    public static Tensor FromArray<T>(T[] data, ReadOnlySpan<int> shape, DataType? dataType = null)
    {
        var dt = dataType ?? DataTypes.Of<T>();
        var dims = shape.ToArray();
        if (ShapeMath.Size(dims) != data.Length)
            throw new InputException($"{data.Length} elements do not fill a tensor of shape {ShapeMath.Format(dims)}");
        return new Tensor(dt, dims, data, 0);
    }

    public static Tensor FromArray<T>(T[] data, params int[] shape) => FromArray(data, (ReadOnlySpan<int>)shape);

    /// <summary>Copies <paramref name="data"/> into a new tensor.</summary>
    public static Tensor Create<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape) => FromArray(data.ToArray(), shape);

    public static Tensor Scalar<T>(T value) => FromArray(new[] { value }, ReadOnlySpan<int>.Empty);

    /// <summary>Wraps a <see cref="System.Numerics.Tensors.Tensor{T}"/> (copies its elements in row-major order).</summary>
    public static Tensor From<T>(System.Numerics.Tensors.ReadOnlyTensorSpan<T> source)
    {
        var dims = new int[source.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((int)source.Lengths[i]);
        var data = new T[ShapeMath.Size(dims)];
        source.FlattenTo(data);
        return FromArray(data, dims);
    }

    /// <summary>The elements as a span of <typeparamref name="T"/>, which must be this tensor's storage type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> AsSpan<T>()
    {
        if (_buffer is T[] arr) return new Span<T>(arr, _offset, Length);
        throw new InvalidOperationException($"tensor of {DataType.Name()} is stored as {_buffer.GetType().GetElementType()!.Name}, not {typeof(T).Name}");
    }

    public ReadOnlySpan<T> AsReadOnlySpan<T>() => AsSpan<T>();

    public T[] ToArray<T>() => AsSpan<T>().ToArray();

    /// <summary>Copies into a <see cref="System.Numerics.Tensors.Tensor{T}"/>.</summary>
    public System.Numerics.Tensors.Tensor<T> ToTensor<T>()
    {
        var lengths = new nint[Rank];
        for (int i = 0; i < Rank; i++) lengths[i] = _dims[i];
        return System.Numerics.Tensors.Tensor.Create(ToArray<T>(), lengths);
    }

    /// <summary>A view with another shape over the same elements.</summary>
    public Tensor Reshape(ReadOnlySpan<int> shape)
    {
        var dims = shape.ToArray();
        if (ShapeMath.Size(dims) != Length)
            throw new ShapeException($"cannot reshape {ShapeMath.Format(_dims)} ({Length} elements) to {ShapeMath.Format(dims)}");
        return new Tensor(DataType, dims, _buffer, _offset);
    }

    /// <summary>A view with another dtype of the same storage (uint8 as float8, say).</summary>
    internal Tensor WithDataType(DataType dataType) => new(dataType, _dims, _buffer, _offset);

    /// <summary>A deep copy with its own buffer.</summary>
    public Tensor Clone()
    {
        var buffer = Array.CreateInstance(_buffer.GetType().GetElementType()!, Length);
        Array.Copy(_buffer, _offset, buffer, 0, Length);
        return new Tensor(DataType, (int[])_dims.Clone(), buffer, 0);
    }

    /// <summary>Element <paramref name="index"/> (flat, row-major) converted to double; for tests and printing.</summary>
    public double GetDouble(int index) => _buffer.GetValue(_offset + index) switch
    {
        float f => f,
        double d => d,
        Half h => (double)h,
        BFloat16 b => (double)b,
        bool b => b ? 1 : 0,
        IConvertible c => c.ToDouble(null),
        var o => throw new InvalidOperationException($"cannot convert {o} to double"),
    };

    public override string ToString() => $"tensor({DataType.Name()}, {ShapeMath.Format(_dims)})";
}

/// <summary>Arithmetic on concrete shapes shared by the runtime and kernels.</summary>
public static class ShapeMath
{
    public static long Size(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new ShapeException($"negative dimension {d} in shape {Format(dims)}");
            n *= d;
            if (n > int.MaxValue) n = (long)int.MaxValue + 1; // saturate: callers reject sizes above int.MaxValue
        }
        return n;
    }

    public static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(",", dims.ToArray()) + "]";

    /// <summary>Row-major strides of a shape, in elements.</summary>
    public static int[] Strides(ReadOnlySpan<int> dims)
    {
        var s = new int[dims.Length];
        int acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /// <summary>Normalises a possibly negative axis for a tensor of rank <paramref name="rank"/>.</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        if (axis < -rank || axis >= Math.Max(rank, 1) && !(rank == 0 && axis == 0))
            throw new ShapeException($"{what} {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>NumPy-style multidirectional broadcast of two shapes.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da == db || db == 1) r[i] = da;
            else if (da == 1) r[i] = db;
            else throw new ShapeException($"shapes {Format(a)} and {Format(b)} cannot be broadcast");
        }
        return r;
    }
}
