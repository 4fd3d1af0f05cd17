namespace Loom.Tests.Kernels;

/// <summary>Small builders shared by the elementwise kernel tests.</summary>
internal static class ElementwiseTestData
{
    public static Tensor T<TElem>(TElem[] data, params int[] shape) => Tensor.FromArray(data, shape);

    /// <summary>The quiet NaN with the sign bit clear (NumPy's "NaN"); .NET's float.NaN has the sign bit set.</summary>
    public static readonly float PositiveNaN = BitConverter.UInt32BitsToSingle(0x7FC00000);

    public static Tensor Halves(float[] data, params int[] shape) => Tensor.FromArray(data.Select(v => (Half)v).ToArray(), shape);

    public static IR.Attribute[] Attrs(params IR.Attribute[] attributes) => attributes;

    /// <summary>Runs a one-output node at <paramref name="opset"/>.</summary>
    public static Tensor Run(string op, int opset, IEnumerable<IR.Attribute>? attributes, params Tensor?[] inputs) =>
        Support.OpTester.Run(op, attributes, outputCount: 1, opset, "", inputs)[0];

    public static void Equal<TElem>(TElem[] expected, Tensor actual) => Assert.Equal(expected, actual.ToArray<TElem>());

    public static void Close(double[] expected, Tensor actual, double tol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double a = actual.GetDouble(i), e = expected[i];
            if (double.IsNaN(e)) Assert.True(double.IsNaN(a), $"element {i}: expected NaN, got {a}");
            else Assert.True(a == e || Math.Abs(a - e) <= tol * (1 + Math.Abs(e)), $"element {i}: expected {e}, got {a}");
        }
    }
}
