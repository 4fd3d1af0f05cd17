namespace Loom.Streams.Models.Emit;

/// <summary>How <see cref="StrEmitter"/> writes a model as a StreamIt program.</summary>
public sealed record StrEmitOptions
{
    /// <summary>Sizes of the inputs' symbolic dimensions (every one must be given; the batch must be 1: an item is one input).</summary>
    public IReadOnlyDictionary<string, long>? Dims { get; init; }
    /// <summary>
    /// When set, the weights (Conv, Gemm and MatMul operands that are constants) are replaced by
    /// <see cref="StrRandom"/> values from this seed, which the program computes in <c>init</c> instead of spelling
    /// them out: a small file. The model with the same weights is <see cref="StrEmitResult.Model"/>.
    /// </summary>
    public int? RandomWeightSeed { get; init; }
    /// <summary>Seed of the program's input source (<see cref="StrRandom.Inputs"/> gives the same items).</summary>
    public int InputSeed { get; init; } = 1;
}

/// <summary>The program's text and the model it computes (after Loom's passes, with the weights the program uses).</summary>
public sealed record StrEmitResult(string Source, IR.Model Model, string Input, int[] InputShape, IReadOnlyList<(string Name, int[] Shape)> Outputs);

/// <summary>
/// The pseudo-random numbers an emitted program computes with StreamIt int arithmetic (a 32-bit LCG, wrapping),
/// reproduced here bit for bit: each value is k/32768 − 1 for a 16-bit k, times a power of two, so float and
/// double arithmetic agree exactly.
/// </summary>
public static class StrRandom
{
    public const int Multiplier = 1103515245, Increment = 12345;

    public static float[] Values(int seed, int count, float scale)
    {
        var v = new float[count];
        int s = seed;
        for (int i = 0; i < count; i++)
        {
            s = unchecked(s * Multiplier + Increment);
            v[i] = ((float)(((uint)s >> 8) & 65535) / 32768f - 1f) * scale;
        }
        return v;
    }

    /// <summary>The first <paramref name="items"/> items the emitted input source pushes (scale 1, continuing one sequence).</summary>
    public static float[][] Inputs(int seed, int items, int size)
    {
        var all = Values(seed, items * size, 1f);
        return Enumerable.Range(0, items).Select(k => all.AsSpan(k * size, size).ToArray()).ToArray();
    }

    /// <summary>A power of two near sqrt(6 / fan-in), so a layer of random weights keeps activations about their size.</summary>
    public static float Scale(int[] shape)
    {
        if (shape.Length < 2) return 0.125f;
        long fan = 1;
        for (int i = 1; i < shape.Length; i++) fan *= shape[i];
        // About He initialisation (uniform bound sqrt(6 / fan-in)): ReLU layers then keep their activations' size.
        return MathF.Pow(2, 1 - MathF.Round(0.5f * MathF.Log2(Math.Max(1, fan))));
    }
}
