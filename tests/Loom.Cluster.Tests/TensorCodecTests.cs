using Loom.Cluster;
using Loom.Cluster.Codec;

namespace Loom.Cluster.Tests;

public class TensorCodecTests
{
    [Fact]
    public void Round_trip_keeps_names_dtypes_shapes_and_every_bit()
    {
        var rng = new Random(5);
        var floats = Enumerable.Range(0, 3 * 7).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        floats[3] = float.NaN;
        floats[4] = float.NegativeInfinity;
        floats[5] = -0f;
        var tensors = new (string, Tensor)[]
        {
            ("x", Tensor.FromArray(floats, 3, 7)),
            ("labels", Tensor.FromArray(new long[] { 1, -2, long.MaxValue }, 3)),
            ("names", Tensor.FromArray(new[] { "a", "", "ünï,\"code\"" }, 3, 1)),
            ("d", Tensor.FromArray(new[] { Math.PI, double.NaN }, 2)),
            ("flags", Tensor.FromArray(new[] { true, false }, 2)),
            ("scalar", Tensor.Scalar(42)),
            ("empty", Tensor.FromArray(Array.Empty<float>(), 0, 5)),
        };
        var back = TensorCodec.Decode(TensorCodec.Encode(tensors));
        Assert.Equal(tensors.Length, back.Length);
        for (int i = 0; i < tensors.Length; i++)
        {
            var (name, t) = tensors[i];
            Assert.Equal(name, back[i].Name);
            Assert.Equal(t.DataType, back[i].Value.DataType);
            Assert.Equal(t.Shape.ToArray(), back[i].Value.Shape.ToArray());
        }
        // Bit patterns, so NaN payloads and -0 survive.
        Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), back[0].Value.ToArray<float>().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal([1, -2, long.MaxValue], back[1].Value.ToArray<long>());
        Assert.Equal(["a", "", "ünï,\"code\""], back[2].Value.ToArray<string>());
        Assert.Equal(42, back[5].Value.ToArray<int>()[0]);
    }

    [Fact]
    public void A_float_chunk_costs_four_bytes_a_value_plus_a_small_header()
    {
        var x = Tensor.FromArray(new float[65536 * 5], 65536, 5);
        int size = TensorCodec.Encode([("input", x)]).Length;
        Assert.InRange(size - 65536 * 5 * 4, 1, 32);
    }

    [Fact]
    public void Truncated_or_foreign_bytes_are_a_clear_error()
    {
        var bytes = TensorCodec.Encode([("x", Tensor.FromArray(new float[100], 10, 10))]);
        var e = Assert.Throws<TensorCodecException>(() => TensorCodec.Decode(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Contains("truncated", e.Message);
        Assert.Throws<TensorCodecException>(() => TensorCodec.Decode("{\"json\":1}"u8));
        var extra = bytes.Concat(new byte[] { 1, 2 }).ToArray();
        Assert.Contains("stray", Assert.Throws<TensorCodecException>(() => TensorCodec.Decode(extra)).Message);
    }
}
