using System.Text.Json;
using Loom.Scheduling;
using Xunit;

namespace Loom.Tests.Scheduling;

/// <summary>The machine-profile cache's JSON keeps every timing (a lost field would skew every schedule).</summary>
public class MachineProfileJsonTests
{
    [Fact]
    public void RoundTripKeepsEveryTimingAndTheBusyMark()
    {
        var profile = MachineProfile.Fixed(2) with
        {
            Ops = new() { ["LRN"] = new KernelTiming(1e-6, 3e-9), ["Relu"] = new KernelTiming(2e-6, 4e-11, 5e-12) },
            ParallelScaling = 1.07,
            BusyProbes = 2,
            Beside = [1.01, 1.2, 1.0, 1.3, 1.1, 1.02, 1.25],
        };
        string json = MachineProfileJson.Write(profile);
        var back = MachineProfileJson.Read(System.Text.Encoding.UTF8.GetBytes(json))!;

        Assert.Equal(profile.Machine, back.Machine);
        Assert.Equal(profile.Threads, back.Threads);
        Assert.Equal(profile.Single, back.Single);
        Assert.Equal(profile.Wide, back.Wide);
        Assert.Equal(profile.Beside, back.Beside);
        Assert.Equal(profile.Transfer, back.Transfer);
        Assert.Equal(profile.Ops.OrderBy(kv => kv.Key), back.Ops.OrderBy(kv => kv.Key));
        Assert.Equal(1.07, back.ParallelScaling);
        Assert.Equal(2, back.BusyProbes);
        Assert.Equal(profile.MemoryBytesPerSecond, back.MemoryBytesPerSecond);
        Assert.Null(MachineProfileJson.Read(System.Text.Encoding.UTF8.GetBytes(MachineProfileJson.Write(MachineProfile.Fixed(2))))!.ParallelScaling);
    }

    /// <summary>
    /// Files written by earlier builds (System.Text.Json's serializer, with its computed ProbedBusy field) read back to the
    /// serializer's own values, bit for bit: schedules are built from them.
    /// </summary>
    [Fact]
    public void ReadsTheSerializersFormatToTheSameValues()
    {
        var profile = MachineProfile.Fixed(2) with
        {
            Ops = new() { ["Sigmoid"] = new KernelTiming(1.6256410256410258E-07, 3.387419871794872E-11) },
            ParallelScaling = 0.9375768371929648,
            BusyProbes = 1,
            MemoryBytesPerSecond = 32779737536.227165,
            Single = [.. MachineProfile.Fixed(2).Single.Select((t, i) => t with { SecondsPerWork = t.SecondsPerWork * (1 + 1e-13 * i) / 3 })],
        };
        string serializer = JsonSerializer.Serialize(profile);
        Assert.Contains("\"ProbedBusy\":true", serializer, StringComparison.Ordinal);
        var back = MachineProfileJson.Read(System.Text.Encoding.UTF8.GetBytes(serializer))!;
        Assert.Equal(JsonSerializer.Deserialize<MachineProfile>(serializer), back, new ProfileComparer());
        Assert.Equal(MachineProfileJson.Write(profile), MachineProfileJson.Write(back));
        Assert.Equal(serializer.Replace(",\"ProbedBusy\":true", "", StringComparison.Ordinal), MachineProfileJson.Write(profile));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"Machine\":\"m\",\"Threads\":2")]
    [InlineData("{\"Machine\":\"m\",\"Threads\":\"two\"}")]
    [InlineData("[1,2]")]
    public void MalformedFilesThrowJsonOrFormatErrors(string text)
    {
        var e = Record.Exception(() => MachineProfileJson.Read(System.Text.Encoding.UTF8.GetBytes(text)));
        Assert.True(e is JsonException or InvalidOperationException or FormatException, e?.GetType().Name ?? "no exception");
    }

    [Fact]
    public void AFileWithoutTimingsReadsAsNone() =>
        Assert.Null(MachineProfileJson.Read("{\"Machine\":\"m\",\"Threads\":2,\"Future\":[1,{\"a\":2}]}"u8));

    private sealed class ProfileComparer : IEqualityComparer<MachineProfile>
    {
        public bool Equals(MachineProfile? a, MachineProfile? b) =>
            a!.Machine == b!.Machine && a.Threads == b.Threads && a.Single.SequenceEqual(b.Single) && a.Wide.SequenceEqual(b.Wide)
            && a.Beside.SequenceEqual(b.Beside) && a.Transfer == b.Transfer && a.MemoryBytesPerSecond == b.MemoryBytesPerSecond
            && a.ParallelScaling == b.ParallelScaling && a.BusyProbes == b.BusyProbes
            && a.Ops.OrderBy(kv => kv.Key).SequenceEqual(b.Ops.OrderBy(kv => kv.Key));

        public int GetHashCode(MachineProfile p) => p.Threads;
    }
}
