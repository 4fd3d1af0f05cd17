using static Loom.Tests.Support.ParityRunner;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// The float32 LRN kernel against the reference (window sums and the power in double precision) for
/// every power path — beta 0.75, 0.5, 1 and a general one — on odd and even window sizes, planes that
/// span several chunks, and tensors big enough to be split over the pool mid-row.
/// </summary>
public class LrnFastTests
{
    public static TheoryData<float, long> Powers() => new() { { 0.75f, 5 }, { 0.5f, 3 }, { 1f, 2 }, { 0.6f, 4 }, { 0.75f, 1 }, { 0.3f, 9 } };

    [Theory, MemberData(nameof(Powers))]
    public void MatchesTheReference(float beta, long size)
    {
        var rng = new Random((int)(beta * 100) + (int)size);
        int[][] shapes = [[1, 3, 5], [1, 1, 4, 4], [2, 7, 37, 41], [1, 16, 3, 1], [3, 5, 700]];
        foreach (var shape in shapes)
        {
            // Activations' magnitudes: the window sums are float32 (as ONNX Runtime's are), so squares must not overflow.
            float range = (float)Math.Pow(10, rng.Next(-2, 4));
            var values = Enumerable.Range(0, (int)ShapeMath.Size(shape)).Select(_ => (float)(rng.NextDouble() * 2 - 1) * range).ToArray();
            Attr[] attrs = [Attr.Int("size", size), Attr.Float("beta", beta), Attr.Float("alpha", 0.02f), Attr.Float("bias", 1.3f)];
            AssertSame("LRN", attrs, [Tensor.FromArray(values, shape)], maxUlps: beta is 0.75f or 0.5f or 1f ? 6 : 8);
        }
    }
}
