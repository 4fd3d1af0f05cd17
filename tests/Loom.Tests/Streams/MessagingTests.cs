namespace Loom.Tests.StreamTests;

/// <summary>
/// Teleport messaging (portals, handlers, latencies) with StreamIt's SDEP timing, against outputs worked out by hand.
/// </summary>
public class MessagingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DownstreamResetLandsBeforeTheFirstFiringThatSeesTheSendersItem(int cores)
    {
        // Counter pops 2: its firing m sees Detector's firings 2m-1 and 2m, so SDEP(m) = 2m. The reset sent in
        // Detector's firing n = 5j (latency 0) arrives before Counter's firing ceil(n/2): the totals restart there.
        var lines = DynamicRateTests.Run("CounterReset.str", 200, cores);
        Assert.Equal(["3", "10", "11", "26", "19", "42", "69", "31", "66", "39"], lines[..10]);
        long total = 0;
        var resetAt = new HashSet<int>();
        for (int n = 5; n <= 400; n += 5) resetAt.Add((n + 1) / 2);
        for (int m = 1; m <= 200; m++)
        {
            if (resetAt.Contains(m)) total = 0;
            total += 2 * m - 1 + 2 * m;
            Assert.Equal(total.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[m - 1]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void UpstreamStepChangeLandsAfterTheReceiversSdepFiring(int cores)
    {
        // Hop's firing n sees Osc's n-th output (SDEP = n). A setStep sent in Hop's firing n with latency 2 lands
        // after Osc's firing n+2: the new step first moves the phase after Osc's firing n+3 pushes.
        var lines = DynamicRateTests.Run("FrequencyHop.str", 36, cores);
        string[] expected = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "17", "19", "21", "23", "25",
            "27", "30", "33", "36", "39", "43", "47", "51", "55", "60", "65", "71", "77", "84", "91", "99"];
        Assert.Equal(expected, lines);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DownstreamMessageThroughARoundRobinSplitterFollowsSdep(int cores)
    {
        // The splitter takes Sender's items two at a time, so Scale's firing m needs Sender's firing 2m
        // (SDEP(m) = 2m) although it scales item 2m - 1. setFactor(n), sent in Sender's firing n = 4k, lands before
        // Scale's firing 2k: item 3 is already scaled by 4. Scale's firing m uses 4·floor(m/2) (1 before the first).
        var lines = StreamHarness.Run("""
            void->void pipeline P {
              portal<Scale> p;
              add Sender(p);
              add splitjoin { split roundrobin(1, 1); add Scale() to p; add Identity<int>(); join roundrobin(1, 1); };
              add Sink();
            }
            void->int filter Sender(portal<Scale> p) {
              int n;
              work push 1 { n++; if (n % 4 == 0) p.setFactor(n) [0]; push(n); }
            }
            int->int filter Scale {
              int f = 1;
              handler setFactor(int x) { f = x; }
              work pop 1 push 1 { push(pop() * f); }
            }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """, 200, cores);
        Assert.Equal(["1", "2", "12", "4", "20", "6", "56", "8", "72", "10", "132", "12"], lines[..12]);
        for (int m = 1; m <= 100; m++)
        {
            int factor = m < 2 ? 1 : 4 * (m / 2);
            Assert.Equal(((2 * m - 1) * factor).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * m - 2]);
            Assert.Equal((2 * m).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * m - 1]);
        }
    }

    [Fact]
    public void AMessageToAFilterWithoutThatHandlerNamesBoth()
    {
        var e = StreamHarness.CompileError("""
            void->void pipeline P { portal<Sink> p; add Src(p); add Sink() to p; }
            void->int filter Src(portal<Sink> p) { work push 1 { p.nope(1) [0]; push(1); } }
            int->void filter Sink { handler hello(int x) { } work pop 1 { println(pop()); } }
            """);
        Assert.Contains("Sink has no message handler nope", e.Message);
    }

    [Fact]
    public void AMessageBetweenParallelBranchesHasNoPath()
    {
        var e = StreamHarness.CompileError("""
            void->void pipeline P {
              portal<B> p;
              add Src();
              add splitjoin { split duplicate; add A(p); add B() to p; join roundrobin; };
              add Sink();
            }
            void->int filter Src { work push 1 { push(1); } }
            int->int filter A(portal<B> p) { work pop 1 push 1 { p.h() [1]; push(pop()); } }
            int->int filter B { handler h() { } work pop 1 push 1 { push(pop()); } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """);
        Assert.Contains("no path between A and B", e.Message);
    }
}
