namespace Loom.Kernels.Common;

/// <summary>
/// A small, fast generator (xoshiro256**, seeded through SplitMix64) that Loom owns, so a given seed
/// yields the same numbers on every platform and .NET version. Not thread-safe: make one per run.
/// </summary>
internal sealed class RandomGenerator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public RandomGenerator(ulong seed)
    {
        _s0 = SplitMix(ref seed); _s1 = SplitMix(ref seed); _s2 = SplitMix(ref seed); _s3 = SplitMix(ref seed);
    }

    /// <summary>A generator for a node: repeatable when the node has a seed, otherwise seeded from the process's shared generator.</summary>
    public static RandomGenerator ForSeed(float? seed) =>
        new(seed is { } s ? (ulong)BitConverter.DoubleToInt64Bits(s) : (ulong)Random.Shared.NextInt64());

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal, by the Box–Muller transform (two values per pair of uniforms).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } spare) { _spareNormal = null; return spare; }
        double u1 = 1.0 - NextDouble(); // in (0, 1], so the log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }
}
