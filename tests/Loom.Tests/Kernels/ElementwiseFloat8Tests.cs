using Loom.Kernels.Common;
using static Loom.Tests.Kernels.ElementwiseTestData;

namespace Loom.Tests.Kernels;

/// <summary>Float8/float4/e8m0 codecs against bit patterns worked out by hand from each format's definition.</summary>
public class ElementwiseFloat8Tests
{
    private static float P2(int e) => MathF.ScaleB(1f, e);

    [Theory]
    [InlineData(1f, 0x38)]
    [InlineData(0.5f, 0x30)]
    [InlineData(-2f, 0xC0)]
    [InlineData(448f, 0x7E)]              // largest finite
    [InlineData(464f, 0x7E)]              // tie between 448 and 480: even mantissa (448)
    [InlineData(1.0625f, 0x38)]           // tie between 1 and 1.125 -> 1 (even)
    [InlineData(1.1875f, 0x3A)]           // tie between 1.125 and 1.25 -> 1.25 (even)
    [InlineData(0.001953125f, 0x01)]      // 2^-9, smallest subnormal
    [InlineData(0.0009765625f, 0x00)]     // 2^-10: tie between 0 and 2^-9 -> 0
    [InlineData(0.00146484375f, 0x01)]    // 1.5 * 2^-10 rounds up to 2^-9
    [InlineData(-1e-7f, 0x80)]            // underflow keeps the sign
    public void E4M3FNEncodes(float x, int bits) => Assert.Equal((byte)bits, Float8Format.E4M3FN.Encode(x, saturate: true));

    [Fact]
    public void E4M3FNOutOfRange()
    {
        var f = Float8Format.E4M3FN;
        Assert.Equal(0x7E, f.Encode(500f, saturate: true));
        Assert.Equal(0x7F, f.Encode(500f, saturate: false));
        Assert.Equal(0x7E, f.Encode(float.PositiveInfinity, saturate: true));
        Assert.Equal(0xFE, f.Encode(float.NegativeInfinity, saturate: true));
        Assert.Equal(0xFF, f.Encode(float.NegativeInfinity, saturate: false));
        Assert.Equal(0x7F, f.Encode(PositiveNaN, saturate: true));
        Assert.Equal(0xFF, f.Encode(-PositiveNaN, saturate: true)); // NaN keeps its sign
    }

    [Fact]
    public void E4M3FNDecodes()
    {
        var f = Float8Format.E4M3FN;
        Assert.True(float.IsNaN(f.Decode(0x7F)));
        Assert.True(float.IsNaN(f.Decode(0xFF)));
        Assert.Equal(448f, f.Decode(0x7E));
        Assert.Equal(P2(-9), f.Decode(0x01));
        Assert.Equal(-1.25f, f.Decode(0xBA));
        Assert.True(float.IsNegative(f.Decode(0x80)) && f.Decode(0x80) == 0);
    }

    [Fact]
    public void E4M3FNUZHasNoNegativeZeroAndNaNAt0x80()
    {
        var f = Float8Format.E4M3FNUZ;
        Assert.Equal(0x40, f.Encode(1f, true));         // bias 8
        Assert.Equal(0x7F, f.Encode(240f, true));       // largest finite
        Assert.Equal(0x7F, f.Encode(300f, true));
        Assert.Equal(0xFF, f.Encode(-300f, true));
        Assert.Equal(0x80, f.Encode(300f, false));
        Assert.Equal(0x80, f.Encode(float.NaN, true));
        Assert.Equal(0x00, f.Encode(-0f, true));
        Assert.Equal(0x01, f.Encode(P2(-10), true));    // smallest subnormal 2^(1-8-3)
        Assert.True(float.IsNaN(f.Decode(0x80)));
        Assert.Equal(240f, f.Decode(0x7F));
    }

    [Fact]
    public void E5M2HasInfinities()
    {
        var f = Float8Format.E5M2;
        Assert.Equal(0x3C, f.Encode(1f, true));
        Assert.Equal(0x7B, f.Encode(57344f, true));
        Assert.Equal(0x7B, f.Encode(61440f, true));     // tie rounds to 65536 (even), above max: saturates
        Assert.Equal(0x7C, f.Encode(61440f, false));    // ... or becomes infinity
        Assert.Equal(0x7C, f.Encode(float.PositiveInfinity, false));
        Assert.Equal(0xFC, f.Encode(float.NegativeInfinity, false));
        Assert.Equal(0x7B, f.Encode(float.PositiveInfinity, true));
        Assert.Equal(0x7F, f.Encode(PositiveNaN, true));
        Assert.Equal(0x01, f.Encode(P2(-16), true));
        Assert.Equal(float.PositiveInfinity, f.Decode(0x7C));
        Assert.Equal(float.NegativeInfinity, f.Decode(0xFC));
        Assert.True(float.IsNaN(f.Decode(0x7D)));
    }

    [Fact]
    public void E5M2FNUZ()
    {
        var f = Float8Format.E5M2FNUZ;
        Assert.Equal(0x40, f.Encode(1f, true));         // bias 16
        Assert.Equal(0x7F, f.Encode(float.PositiveInfinity, true));
        Assert.Equal(0x80, f.Encode(float.PositiveInfinity, false));
        Assert.Equal(0x80, f.Encode(float.NaN, false));
        Assert.Equal(57344f, f.Decode(0x7F));
        Assert.True(float.IsNaN(f.Decode(0x80)));
    }

    [Theory]
    [InlineData(0.25f, 0x0)]   // tie between 0 and 0.5 -> 0
    [InlineData(0.3f, 0x1)]
    [InlineData(0.75f, 0x2)]   // tie between 0.5 and 1 -> 1
    [InlineData(1.25f, 0x2)]   // tie between 1 and 1.5 -> 1
    [InlineData(1.75f, 0x4)]   // tie between 1.5 and 2 -> 2
    [InlineData(2.5f, 0x4)]    // tie between 2 and 3 -> 2
    [InlineData(5f, 0x6)]      // tie between 4 and 6 -> 4
    [InlineData(5.1f, 0x7)]
    [InlineData(100f, 0x7)]    // saturates at 6
    [InlineData(-0.5f, 0x9)]
    [InlineData(-0f, 0x8)]
    [InlineData(float.NaN, 0x7)]
    [InlineData(float.NegativeInfinity, 0xF)]
    public void Float4E2M1Encodes(float x, int bits) => Assert.Equal((byte)bits, Float8Format.E2M1.Encode(x, saturate: false));

    [Fact]
    public void Float4E2M1Decodes()
    {
        float[] positives = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f];
        for (int b = 0; b < 8; b++)
        {
            Assert.Equal(positives[b], Float8Format.E2M1.Decode((byte)b));
            Assert.Equal(-positives[b], Float8Format.E2M1.Decode((byte)(b | 8)));
        }
    }

    [Fact]
    public void E8M0RoundsTheExponent()
    {
        Assert.Equal(127, Float8E8M0.Encode(1f, true, E8M0Rounding.Up));
        Assert.Equal(129, Float8E8M0.Encode(3f, true, E8M0Rounding.Up));       // 3 = 1.5·2^1 -> 4
        Assert.Equal(128, Float8E8M0.Encode(3f, true, E8M0Rounding.Down));     // -> 2
        Assert.Equal(129, Float8E8M0.Encode(3f, true, E8M0Rounding.Nearest));  // fraction .5 -> up
        Assert.Equal(128, Float8E8M0.Encode(2.5f, true, E8M0Rounding.Nearest)); // fraction .25 -> down
        Assert.Equal(254, Float8E8M0.Encode(1.5f * P2(127), true, E8M0Rounding.Up));  // saturates at 2^127
        Assert.Equal(255, Float8E8M0.Encode(1.5f * P2(127), false, E8M0Rounding.Up)); // else NaN
        Assert.Equal(255, Float8E8M0.Encode(float.NaN, true, E8M0Rounding.Up));
        Assert.Equal(1f, Float8E8M0.Decode(127));
        Assert.Equal(P2(-127), Float8E8M0.Decode(0));
        Assert.True(float.IsNaN(Float8E8M0.Decode(255)));
    }

    [Fact]
    public void EveryE4M3FNAndE5M2PatternRoundTrips()
    {
        foreach (var f in new[] { Float8Format.E4M3FN, Float8Format.E4M3FNUZ, Float8Format.E5M2, Float8Format.E5M2FNUZ })
            for (int b = 0; b < 256; b++)
            {
                float v = f.Decode((byte)b);
                if (float.IsNaN(v) || (f.Uz && b == 0x80)) continue;
                Assert.Equal((byte)b, f.Encode(v, saturate: false));
            }
    }
}
