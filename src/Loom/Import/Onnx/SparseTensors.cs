using Loom.Import.Onnx.Proto;

namespace Loom.Import.Onnx;

/// <summary>Turns an ONNX <c>SparseTensorProto</c> (values + linear or coordinate indices) into a dense tensor.</summary>
internal static class SparseTensors
{
    public static Tensor Densify(SparseTensorProto s, ImportContext ctx)
    {
        if (s.Values is null || s.Indices is null) throw ctx.Format("sparse tensor without values or indices");
        var values = TensorProtoCodec.Decode(s.Values, ctx, "sparse tensor values");
        var indices = TensorProtoCodec.Decode(s.Indices, ctx, "sparse tensor indices");
        if (indices.DataType != DataType.Int64) throw ctx.Format($"sparse tensor '{s.Values.Name}' has {indices.DataType.Name()} indices; ONNX requires int64");
        var dims = new int[s.Dims.Count];
        long size = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (s.Dims[i] < 0 || s.Dims[i] > int.MaxValue) throw ctx.Format($"sparse tensor '{s.Values.Name}' has invalid dimension {s.Dims[i]}");
            dims[i] = (int)s.Dims[i];
            size *= dims[i];
            if (size * values.DataType.ElementSize() > ctx.Options.MaxTensorBytes)
                throw new ResourceLimitException($"{ctx.Where}: sparse tensor '{s.Values.Name}' of shape {ShapeMath.Format(dims)} is above the cap of {ctx.Options.MaxTensorBytes} bytes");
        }
        int nnz = values.Length;
        var idx = indices.AsSpan<long>();
        bool linear = indices.Rank == 1;
        if (linear ? idx.Length != nnz : (indices.Rank != 2 || indices.Shape[0] != nnz || indices.Shape[1] != dims.Length))
            throw ctx.Format($"sparse tensor '{s.Values.Name}' has indices of shape {ShapeMath.Format(indices.Shape)} for {nnz} values of rank {dims.Length}");
        var dense = Tensor.Zeros(values.DataType, dims);
        var strides = ShapeMath.Strides(dims);
        for (int k = 0; k < nnz; k++)
        {
            long flat = 0;
            if (linear) flat = idx[k];
            else
                for (int d = 0; d < dims.Length; d++)
                {
                    long c = idx[k * dims.Length + d];
                    if (c < 0 || c >= dims[d]) { flat = -1; break; }
                    flat += c * strides[d];
                }
            if (flat < 0 || flat >= size) throw ctx.Format($"sparse tensor '{s.Values.Name}' has index out of range at entry {k}");
            Array.Copy(values.Buffer, values.Offset + k, dense.Buffer, flat, 1);
        }
        return dense;
    }
}
