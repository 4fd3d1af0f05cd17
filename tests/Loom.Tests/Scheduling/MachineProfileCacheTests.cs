using Loom.Scheduling;
using Xunit;

namespace Loom.Tests.Scheduling;

/// <summary>When a cached machine profile is reused and when a process probes the machine again.</summary>
public class MachineProfileCacheTests
{
    private const double QuietBar = 1.6;

    [Fact]
    public void AQuietProfileIsKeptWithoutACheck()
    {
        Assert.True(MachineProfile.KeepCached(MachineProfile.Fixed(2), QuietBar, () => throw new InvalidOperationException("checked")));
        Assert.True(MachineProfile.KeepCached(MachineProfile.Fixed(2) with { ParallelScaling = 1.95 }, QuietBar,
            () => throw new InvalidOperationException("checked")));
    }

    [Fact]
    public void ABusyProfileIsReplacedWhenTheCoresAreQuietNow()
    {
        var busy = MachineProfile.Fixed(2) with { ParallelScaling = 1.05, BusyProbes = 1 };
        Assert.False(MachineProfile.KeepCached(busy, QuietBar, () => 1.95));
        Assert.True(MachineProfile.KeepCached(busy, QuietBar, () => 1.2)); // still busy: probing again would read busy too
    }

    [Fact]
    public void RepeatedBusyProbesStopReprobingWhateverTheCheckSays()
    {
        var twice = MachineProfile.Fixed(2) with { ParallelScaling = 1.05, BusyProbes = MachineProfile.MaxBusyProbes };
        Assert.True(MachineProfile.KeepCached(twice, QuietBar, () => throw new InvalidOperationException("checked")));
    }
}
