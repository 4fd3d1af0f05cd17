using System.Text.Json;
using Loom.Scheduling;
using Xunit;

namespace Loom.Tests.Scheduling;

/// <summary>The machine-profile cache's source-generated JSON keeps every timing (a lost field would skew every schedule).</summary>
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
        string json = JsonSerializer.Serialize(profile, MachineProfileJson.Default.MachineProfile);
        var back = JsonSerializer.Deserialize(json, MachineProfileJson.Default.MachineProfile)!;

        Assert.Equal(profile.Machine, back.Machine);
        Assert.Equal(profile.Threads, back.Threads);
        Assert.Equal(profile.Single, back.Single);
        Assert.Equal(profile.Wide, back.Wide);
        Assert.Equal(profile.Beside, back.Beside);
        Assert.Equal(profile.Transfer, back.Transfer);
        Assert.Equal(profile.Ops.OrderBy(kv => kv.Key), back.Ops.OrderBy(kv => kv.Key));
        Assert.Equal(1.07, back.ParallelScaling);
        Assert.Equal(2, back.BusyProbes);
        Assert.Null(JsonSerializer.Deserialize(JsonSerializer.Serialize(MachineProfile.Fixed(2), MachineProfileJson.Default.MachineProfile),
            MachineProfileJson.Default.MachineProfile)!.ParallelScaling);
    }
}
