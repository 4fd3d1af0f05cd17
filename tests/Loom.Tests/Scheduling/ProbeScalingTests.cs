using Loom.Scheduling;
using Xunit;

namespace Loom.Tests.Scheduling;

/// <summary>Whether a fresh probe counts as taken on quiet cores: judged by its own kernels' scaling, not by a check around it.</summary>
public class ProbeScalingTests
{
    /// <summary>A two-thread profile whose classes ran <paramref name="scaling"/> times faster on two threads than on one.</summary>
    private static MachineProfile Scaled(params (KernelClass Class, double Scaling)[] scaling)
    {
        var p = MachineProfile.Fixed(2);
        var wide = p.Single.Select(t => t with { SecondsPerWork = t.SecondsPerWork / 1.9 }).ToArray();
        foreach (var (c, s) in scaling) wide[(int)c] = p.Single[(int)c] with { SecondsPerWork = p.Single[(int)c].SecondsPerWork / s };
        return p with { Wide = wide };
    }

    [Fact]
    public void KernelsThatScaledMakeAQuietProbe()
    {
        // Whatever an FMA check around it read: the products' own 1.9x is the verdict.
        Assert.Equal(1.9, MachineProfile.ProbeScaling(Scaled(), 2), 6);
    }

    [Fact]
    public void SlowProductsMakeABusyProbe() =>
        Assert.Equal(1.1, MachineProfile.ProbeScaling(Scaled((KernelClass.Gemm, 1.1)), 2), 6);

    [Fact]
    public void AConvolutionClassUnderItsFloorMakesABusyProbe()
    {
        Assert.Equal(1.26, MachineProfile.ProbeScaling(Scaled((KernelClass.Conv, 1.26)), 2), 6);
        Assert.Equal(1.3, MachineProfile.ProbeScaling(Scaled((KernelClass.Winograd, 1.3)), 2), 6);
        Assert.Equal(1.1, MachineProfile.ProbeScaling(Scaled((KernelClass.Winograd4, 1.1)), 2), 6);
        Assert.Equal(1.43, MachineProfile.ProbeScaling(Scaled((KernelClass.GroupedConv, 1.43)), 2), 6);
        Assert.Equal(1.12, MachineProfile.ProbeScaling(Scaled((KernelClass.Pool, 1.12)), 2), 6);
    }

    [Fact]
    public void ElementwiseWorkHasNoFloor()
    {
        // Memory-bound: a second thread may add little on quiet cores too, and that must not mark every probe busy.
        Assert.Equal(1.9, MachineProfile.ProbeScaling(Scaled((KernelClass.Memory, 1.1)), 2), 6);
    }

    [Fact]
    public void ClassesAboveTheirFloorsDoNotLowerTheVerdict()
    {
        // F(4×4) gains only 1.35–1.73x on quiet cores: 1.4 is above its floor, Conv's 1.6 and pools' 1.35 above theirs.
        Assert.Equal(1.9, MachineProfile.ProbeScaling(Scaled((KernelClass.Winograd4, 1.4), (KernelClass.Conv, 1.6), (KernelClass.Pool, 1.35)), 2), 6);
    }
}
