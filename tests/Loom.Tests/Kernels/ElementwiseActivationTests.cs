using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ElementwiseActivationTests
{
    [Fact]
    public void ReluOnIntegersAndFloats()
    {
        Equal(new[] { 0, 0, 4 }, Run("Relu", null, T(new[] { -3, 0, 4 }, 3))[0]);
        Close([0, 2.5, double.NaN], Run("Relu", null, F([-1f, 2.5f, float.NaN], 3))[0]);
    }

    [Fact]
    public void FloatReluInVectorsMatchesTheDefinitionAtEveryLength()
    {
        // Lengths around the 16- and 8-wide vectors and their scalar tails; NaN, infinities and −0 where the vectors are.
        var r = new Random(7);
        foreach (int n in new[] { 1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 100 })
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
            if (n > 3) { x[0] = float.NaN; x[1] = float.NegativeInfinity; x[2] = float.PositiveInfinity; x[3] = -0f; }
            var y = Run("Relu", null, F(x, n))[0].ToArray<float>();
            for (int i = 0; i < n; i++)
            {
                float expected = float.IsNaN(x[i]) ? float.NaN : x[i] < 0 ? 0 : x[i];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(expected) && float.IsNaN(y[i])),
                    $"length {n}, element {i}: relu({x[i]}) = {y[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void LeakyReluEluSeluCelu()
    {
        Close([-0.2, 3], Run("LeakyRelu", Attrs(Attr.Float("alpha", 0.1f)), F([-2f, 3f], 2))[0]);
        Close([-0.02, 3], Run("LeakyRelu", null, F([-2f, 3f], 2))[0]); // default alpha 0.01
        Close([-1.2642411176571153, 1], Run("Elu", Attrs(Attr.Float("alpha", 2f)), F([-1f, 1f], 2))[0]);
        Close([-1.1113307412864781, 2.1014020442962646, 0], Run("Selu", null, F([-1f, 2f, 0f], 3))[0]);
        Close([-1.2642411176571153, 3], Run("Celu", Attrs(Attr.Float("alpha", 2f)), F([-2f, 3f], 2))[0]);
    }

    [Fact]
    public void ThresholdedReluIsStrict() =>
        Close([0, 0, 2], Run("ThresholdedRelu", null, F([0.5f, 1f, 2f], 3))[0]);

    [Fact]
    public void HardSigmoidAndHardSwish()
    {
        Close([0, 0.5, 0.7, 1], Run("HardSigmoid", null, F([-3f, 0f, 1f, 3f], 4))[0]);
        Close([0, 0.5, 1], Run("HardSigmoid", Attrs(Attr.Float("alpha", 0.5f), Attr.Float("beta", 0f)), F([-1f, 1f, 4f], 3))[0]);
        Close([0, -1.0 / 3, 0, 2.0 / 3, 4], Run("HardSwish", null, F([-4f, -1f, 0f, 1f, 4f], 5))[0]);
    }

    [Fact]
    public void SigmoidSoftplusSoftsignStayFiniteAtExtremes()
    {
        Close([0.7310585786300049, 1, 0], Run("Sigmoid", null, F([1f, 100f, -100f], 3))[0]);
        Close([0.6931471805599453, 100, 3.720075976020836e-44], Run("Softplus", null, F([0f, 100f, -100f], 3))[0]);
        Close([-0.5, 0.75], Run("Softsign", null, F([-1f, 3f], 2))[0]);
        Close([1, -1, 0], Run("Tanh", null, F([50f, -50f, 0f], 3))[0]);
    }

    [Fact]
    public void GeluExactAndTanhApproximation()
    {
        Close([0.8413447460685429, -0.15865525393145707, 0], Run("Gelu", null, F([1f, -1f, 0f], 3))[0]);
        Close([0.8411919906082768, -0.15428599017485606],
            Run("Gelu", Attrs(Attr.String("approximate", "tanh")), F([1f, -0.5f], 2))[0]);
    }

    [Fact]
    public void Mish() => Close([0.8650983882673103, -0.2525014826957089], Run("Mish", null, F([1f, -2f], 2))[0]);

    [Fact]
    public void PReluBroadcastsTheSlope()
    {
        // x [2,3], slope [3]: the slope varies along the last axis.
        var y = Run("PRelu", null, F([-1f, -1f, -1f, 2f, -4f, 0f], 2, 3), F([0.1f, 0.2f, 0.3f], 3))[0];
        Close([-0.1, -0.2, -0.3, 2, -0.8, 0], y);
    }

    [Fact]
    public void PReluBeforeOpset7AppliesA1DSlopePerChannel()
    {
        // x [1,2,2] (N, C, W), slope [2] one value per channel (axis 1).
        var y = Run("PRelu", 6, null, F([-1f, -2f, -1f, 3f], 1, 2, 2), F([0.5f, 0.25f], 2));
        Close([-0.5, -1, -0.25, 3], y);
    }

    [Fact]
    public void ShrinkOnFloatsAndIntegers()
    {
        var a = Attrs(Attr.Float("lambd", 1.5f), Attr.Float("bias", 0.5f));
        Close([-1.5, 0, 0, 0, 1.5], Run("Shrink", a, F([-2f, -1f, 0f, 1f, 2f], 5))[0]);
        Equal(new[] { -2, 0, 1 }, Run("Shrink", Attrs(Attr.Float("lambd", 1.5f), Attr.Float("bias", 1f)), T(new[] { -3, -1, 2 }, 3))[0]);
    }

    [Fact]
    public void ClipWithInputBounds()
    {
        var x = F([-2f, 0.5f, 3f, float.NaN], 4);
        Close([0, 0.5, 1, double.NaN], Run("Clip", null, x, Tensor.Scalar(0f), Tensor.Scalar(1f))[0]);
        Close([-2, 0.5, 1, double.NaN], Run("Clip", null, x, null, Tensor.Scalar(1f))[0]); // min omitted
        Close([0, 0.5, 3, double.NaN], Run("Clip", null, x, Tensor.Scalar(0f))[0]); // max omitted
    }

    [Fact]
    public void ClipWithMinAboveMaxGivesMaxLikeNumPy() =>
        Close([1, 1, 1], Run("Clip", null, F([-5f, 1.5f, 5f], 3), Tensor.Scalar(2f), Tensor.Scalar(1f))[0]);

    [Fact]
    public void ClipOnIntegersAndFloat16()
    {
        Equal(new sbyte[] { -1, 0, 2 }, Run("Clip", null, T(new sbyte[] { -100, 0, 100 }, 3), Tensor.Scalar((sbyte)-1), Tensor.Scalar((sbyte)2))[0]);
        Equal(new[] { (Half)0f, (Half)0.5f }, Run("Clip", null, Halves([-1f, 0.5f], 2), Tensor.Scalar((Half)0f), Tensor.Scalar((Half)1f))[0]);
    }

    [Fact]
    public void ClipBeforeOpset11UsesAttributes() =>
        Close([-1, 0.5, 1], Run("Clip", 6, Attrs(Attr.Float("min", -1f), Attr.Float("max", 1f)), F([-3f, 0.5f, 3f], 3)));
}
