namespace Loom.Tests.Kernels;

/// <summary>Loom's RotaryEmbedding gives ONNX Runtime's answers on the stored conformance inputs ORT accepts.</summary>
public sealed class RotaryEmbeddingOrtParityTests
{
    // ORT rejects the *rotary_dim cases (its caches must be exactly rotary_embedding_dim/2 wide).
    [Theory]
    [InlineData("test_rotary_embedding")]
    [InlineData("test_rotary_embedding_3d_input")]
    [InlineData("test_rotary_embedding_interleaved")]
    [InlineData("test_rotary_embedding_no_position_ids")]
    [InlineData("test_rotary_embedding_no_position_ids_interleaved")]
    public void ConformanceInputs(string name)
    {
        var (model, feeds) = OrtParity.ConformanceCase(name);
        OrtParity.AssertSame(model, feeds);
    }
}
