using System.Numerics;
using System.Numerics.Tensors;

namespace Loom.Kernels.Common;

/// <summary>One of the activation functions RNN, GRU and LSTM accept in their <c>activations</c> attribute.</summary>
internal sealed record RecurrentActivation(string Name, float Alpha, float Beta)
{
    // Name (lower case) → (takes alpha, takes beta, default alpha, default beta). Defaults are those of the
    // ONNX operators of the same name (Affine and ScaledTanh are the former experimental operators).
    private static readonly Dictionary<string, (bool Alpha, bool Beta, float A, float B)> Known = new()
    {
        ["relu"] = (false, false, 0, 0),
        ["tanh"] = (false, false, 0, 0),
        ["sigmoid"] = (false, false, 0, 0),
        ["softsign"] = (false, false, 0, 0),
        ["softplus"] = (false, false, 0, 0),
        ["affine"] = (true, true, 1f, 0f),
        ["leakyrelu"] = (true, false, 0.01f, 0),
        ["thresholdedrelu"] = (true, false, 1f, 0),
        ["scaledtanh"] = (true, true, 1f, 1f),
        ["hardsigmoid"] = (true, true, 0.2f, 0.5f),
        ["elu"] = (true, false, 1f, 0),
    };

    /// <summary>
    /// The activations of each direction (<paramref name="perDirection"/> per direction). activation_alpha
    /// and activation_beta are consumed in order by the functions that take them; a list of just one
    /// direction's functions serves both directions of a bidirectional layer.
    /// </summary>
    public static RecurrentActivation[][] Parse(KernelInfo info, int directions, string[] defaults)
    {
        int perDirection = defaults.Length;
        var names = info.Node.GetAttribute("activations")?.AsStrings().ToArray() ?? [];
        if (names.Length == 0) names = Enumerable.Repeat(defaults, directions).SelectMany(x => x).ToArray();
        else if (names.Length == perDirection && directions == 2) names = [.. names, .. names];
        if (names.Length != perDirection * directions)
            throw info.Fail($"expected {perDirection * directions} activations ({perDirection} per direction), got {names.Length}");

        var alphas = info.GetFloats("activation_alpha")?.ToArray() ?? [];
        var betas = info.GetFloats("activation_beta")?.ToArray() ?? [];
        int ai = 0, bi = 0;
        var result = new RecurrentActivation[directions][];
        for (int d = 0; d < directions; d++)
        {
            result[d] = new RecurrentActivation[perDirection];
            for (int i = 0; i < perDirection; i++)
            {
                var name = names[d * perDirection + i].ToLowerInvariant();
                if (!Known.TryGetValue(name, out var k))
                    throw info.Fail($"unknown activation '{names[d * perDirection + i]}' (expected one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)");
                float a = k.Alpha && ai < alphas.Length ? alphas[ai++] : k.A;
                float b = k.Beta && bi < betas.Length ? betas[bi++] : k.B;
                result[d][i] = new RecurrentActivation(name, a, b);
            }
        }
        return result;
    }

    /// <summary>Applies the function to every element in place.</summary>
    public void Apply<T>(Span<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        T a = T.CreateTruncating(Alpha), b = T.CreateTruncating(Beta);
        switch (Name)
        {
            case "tanh": TensorPrimitives.Tanh<T>(x, x); break;
            case "sigmoid": TensorPrimitives.Sigmoid<T>(x, x); break;
            case "relu": TensorPrimitives.Max(x, T.Zero, x); break;
            case "affine": foreach (ref var v in x) v = a * v + b; break;
            case "leakyrelu": foreach (ref var v in x) v = v >= T.Zero ? v : a * v; break;
            case "thresholdedrelu": foreach (ref var v in x) v = v > a ? v : T.Zero; break;
            case "scaledtanh": foreach (ref var v in x) v = a * T.Tanh(b * v); break;
            case "hardsigmoid": foreach (ref var v in x) v = T.Max(T.Zero, T.Min(T.One, a * v + b)); break;
            case "elu": foreach (ref var v in x) v = v >= T.Zero ? v : a * (T.Exp(v) - T.One); break;
            case "softsign": foreach (ref var v in x) v /= T.One + T.Abs(v); break;
            case "softplus": foreach (ref var v in x) v = T.Log(T.One + T.Exp(v)); break;
            default: throw new InvalidOperationException($"activation {Name} was not validated");
        }
    }
}
