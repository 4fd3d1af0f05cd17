using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Softmax, LogSoftmax and Hardmax: opset 13 single-axis vs earlier 2-D coercion, stability, ties.</summary>
public sealed class SoftmaxTests
{
    // x = [[[0, 1], [2, 3]]], shape [1, 2, 2]
    private static Tensor X() => OpTester.F([0, 1, 2, 3], 1, 2, 2);

    [Fact]
    public void Opset13NormalizesOneAxis()
    {
        var y = OpTester.Run("Softmax", [A.Int("axis", 1)], 1, 13, "", X())[0];
        // Along axis 1: pairs (0, 2) and (1, 3), each [1/(1+e^2), e^2/(1+e^2)].
        float a = 1 / (1 + MathF.Exp(2)), b = 1 - a;
        OpTester.AssertClose([a, a, b, b], y);
    }

    [Fact]
    public void BeforeOpset13TheTailIsFlattened()
    {
        var y = OpTester.Run("Softmax", [A.Int("axis", 1)], 1, 11, "", X())[0];
        float sum = 1 + MathF.Exp(1) + MathF.Exp(2) + MathF.Exp(3);
        OpTester.AssertClose([1 / sum, MathF.Exp(1) / sum, MathF.Exp(2) / sum, MathF.Exp(3) / sum], y);
        // Default axis is 1 before 13 and -1 from 13.
        var d11 = OpTester.Run("LogSoftmax", null, 1, 11, "", X())[0];
        OpTester.AssertClose([-MathF.Log(sum), 1 - MathF.Log(sum), 2 - MathF.Log(sum), 3 - MathF.Log(sum)], d11);
        var d13 = OpTester.Run("LogSoftmax", null, 1, 13, "", X())[0];
        float l = MathF.Log(1 + MathF.E);
        OpTester.AssertClose([-l, 1 - l, -l, 1 - l], d13);
    }

    [Fact]
    public void LargeInputsDoNotOverflow()
    {
        var x = OpTester.F([10000, 10001, -10000, -10000], 2, 2);
        var s = OpTester.Run("Softmax", null, x)[0];
        float a = 1 / (1 + MathF.E);
        OpTester.AssertClose([a, 1 - a, 0.5f, 0.5f], s);
        var l = OpTester.Run("LogSoftmax", null, x)[0];
        OpTester.AssertClose([MathF.Log(a), MathF.Log(1 - a), -MathF.Log(2), -MathF.Log(2)], l);
    }

    [Fact]
    public void HardmaxMarksTheFirstMaximum()
    {
        var x = OpTester.F([3, 1, 3, 0, 2, 5, 5, 1], 2, 4);
        OpTester.AssertClose([1, 0, 0, 0, 0, 1, 0, 0], OpTester.Run("Hardmax", null, x)[0]);
        // Opset 11 over the flattened [1, 8]: one 1 in the whole tensor.
        var y = OpTester.Run("Hardmax", [A.Int("axis", 0)], 1, 11, "", x)[0];
        OpTester.AssertClose([0, 0, 0, 0, 0, 1, 0, 0], y);
    }

    [Fact]
    public void DoubleAndEmptyInputs()
    {
        var d = OpTester.Run("Softmax", null, Tensor.FromArray(new double[] { 0, Math.Log(3) }, 2))[0];
        Assert.Equal(0.25, d.ToArray<double>()[0], 12);
        var e = OpTester.Run("Softmax", [A.Int("axis", 0)], Tensor.FromArray(Array.Empty<float>(), 0, 3))[0];
        Assert.Equal([0, 3], e.Shape.ToArray());
    }
}
