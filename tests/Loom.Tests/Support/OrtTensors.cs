using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Loom.Tests.Support;

/// <summary>Loom tensors to ONNX Runtime values and back (copies), for tests that run ONNX Runtime as the oracle.</summary>
public static class OrtTensors
{
    public static OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
        return t.DataType switch
        {
            DataType.Float => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), shape),
            DataType.Double => OrtValue.CreateTensorValueFromMemory(t.ToArray<double>(), shape),
            DataType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), shape),
            DataType.Int32 => OrtValue.CreateTensorValueFromMemory(t.ToArray<int>(), shape),
            DataType.Bool => OrtValue.CreateTensorValueFromMemory(t.ToArray<bool>(), shape),
            DataType.UInt8 => OrtValue.CreateTensorValueFromMemory(t.ToArray<byte>(), shape),
            DataType.Float16 => OrtValue.CreateTensorValueFromMemory(MemoryMarshal.Cast<Half, Float16>(t.AsSpan<Half>()).ToArray(), shape),
            _ => throw new NotSupportedException($"no ONNX Runtime conversion for {t.DataType}"),
        };
    }

    public static Tensor FromOrt(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        int[] shape = info.Shape.Select(d => (int)d).ToArray();
        return info.ElementDataType switch
        {
            TensorElementType.Float => Tensor.FromArray(v.GetTensorDataAsSpan<float>().ToArray(), shape),
            TensorElementType.Double => Tensor.FromArray(v.GetTensorDataAsSpan<double>().ToArray(), shape),
            TensorElementType.Int32 => Tensor.FromArray(v.GetTensorDataAsSpan<int>().ToArray(), shape),
            TensorElementType.Int64 => Tensor.FromArray(v.GetTensorDataAsSpan<long>().ToArray(), shape),
            TensorElementType.Bool => Tensor.FromArray(v.GetTensorDataAsSpan<bool>().ToArray(), shape),
            TensorElementType.UInt8 => Tensor.FromArray(v.GetTensorDataAsSpan<byte>().ToArray(), shape),
            TensorElementType.Float16 => Tensor.FromArray(MemoryMarshal.Cast<Float16, Half>(v.GetTensorDataAsSpan<Float16>()).ToArray(), shape),
            var e => throw new NotSupportedException($"no conversion from ONNX Runtime's {e}"),
        };
    }
}
