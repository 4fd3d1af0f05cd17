using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ElementwiseRandomTests
{
    private static readonly float[] Values = [1f, -2f, 3f, 4f, -5f, 6f, 7f, 8f];

    private static Tensor[] Dropout(int opset, IEnumerable<Attr>? attrs, params Tensor?[] inputs) =>
        Support.OpTester.Run("Dropout", attrs, outputCount: 2, opset, "", inputs);

    [Fact]
    public void InferenceIsIdentityWithAnAllTrueMask()
    {
        var r = Dropout(22, null, F(Values, 2, 4), Tensor.Scalar(0.5f));
        Close(Values.Select(v => (double)v).ToArray(), r[0]);
        Assert.Equal(DataType.Bool, r[1].DataType);
        Assert.All(r[1].ToArray<bool>(), Assert.True);
    }

    [Fact]
    public void TrainingWithRatioZeroIsIdentity()
    {
        var r = Dropout(22, null, F(Values, 8), Tensor.Scalar(0f), Tensor.Scalar(true));
        Close(Values.Select(v => (double)v).ToArray(), r[0]);
        Assert.All(r[1].ToArray<bool>(), Assert.True);
    }

    [Fact]
    public void TrainingScalesKeptElementsAndZeroesTheRest()
    {
        var r = Dropout(22, [Attr.Int("seed", 3)], F(Values, 8), Tensor.Scalar(0.75f), Tensor.Scalar(true));
        var y = r[0].ToArray<float>();
        var mask = r[1].ToArray<bool>();
        for (int i = 0; i < y.Length; i++) Assert.Equal(mask[i] ? Values[i] * 4f : 0f, y[i], 5);
        // A seeded node repeats its draws.
        var again = Dropout(22, [Attr.Int("seed", 3)], F(Values, 8), Tensor.Scalar(0.75f), Tensor.Scalar(true));
        Assert.Equal(mask, again[1].ToArray<bool>());
    }

    [Fact]
    public void MaskBeforeOpset10HasTheInputsType()
    {
        var r = Dropout(7, [Attr.Float("ratio", 0.3f)], F([1f, 2f], 2));
        Assert.Equal(DataType.Float, r[1].DataType);
        Equal(new[] { 1f, 1f }, r[1]);
        Close([1, 2], r[0]);
    }

    [Fact]
    public void BernoulliOfZeroAndOneIsCertain()
    {
        var y = Run("Bernoulli", null, F([0f, 1f, 1f, 0f], 4))[0];
        Equal(new[] { 0f, 1f, 1f, 0f }, y);
        var i = Run("Bernoulli", Attrs(Attr.Int("dtype", (long)DataType.Int32)), T(new[] { 1.0, 0.0 }, 2))[0];
        Assert.Equal(DataType.Int32, i.DataType);
        Equal(new[] { 1, 0 }, i);
    }
}
