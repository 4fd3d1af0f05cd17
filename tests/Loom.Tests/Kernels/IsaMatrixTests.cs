using System.Diagnostics;

namespace Loom.Tests.Kernels;

/// <summary>
/// Reruns the SIMD test classes in child processes of this test executable with the runtime's ISA knobs
/// turned down, so the 256-bit (no AVX-512), 128-bit (no AVX2) and scalar (no hardware intrinsics) paths
/// are tested on a machine whose widest path is AVX-512. Each child first checks that the knob took
/// effect (<see cref="ElementwiseVectorTests.RunsOnTheIsaTheMatrixAskedFor"/>). tests/run-isa-matrix.sh
/// runs the same matrix from a shell.
/// </summary>
public class IsaMatrixTests
{
    /// <summary>The classes whose tests exercise vector code paths.</summary>
    public static readonly string[] SimdClasses =
    [
        typeof(ElementwiseVectorTests).FullName!,
        typeof(FastKernelParityTests).FullName!,
        typeof(ReduceVectorTests).FullName!,
        typeof(FastReduceParityTests).FullName!,
        typeof(RowDotsTests).FullName!,
    ];

    /// <summary>
    /// True in a child run. Parity tests then skip their tensors big enough for the worker pool (how work is
    /// split does not depend on the ISA) and most random shapes, so the three reruns stay within CI's budget.
    /// </summary>
    public static bool IsChildRun => Environment.GetEnvironmentVariable("LOOM_EXPECT_ISA") is not null;

    [Theory]
    [InlineData("DOTNET_EnableAVX512", "avx2")]
    [InlineData("DOTNET_EnableAVX2", "sse")]
    [InlineData("DOTNET_EnableHWIntrinsic", "scalar")]
    public async Task SimdTestsPassWithTheIsaTurnedDown(string knob, string expectedIsa)
    {
        Assert.SkipWhen(IsChildRun, "already a child run");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(IsaMatrixTests).Assembly.Location);
        foreach (var c in SimdClasses) { psi.ArgumentList.Add("-class"); psi.ArgumentList.Add(c); }
        psi.Environment[knob] = "0";
        psi.Environment["LOOM_EXPECT_ISA"] = expectedIsa;
        using var p = Process.Start(psi)!;
        var token = TestContext.Current.CancellationToken;
        var stderr = p.StandardError.ReadToEndAsync(token);
        string stdout = await p.StandardOutput.ReadToEndAsync(token);
        await p.WaitForExitAsync(token);
        Assert.True(p.ExitCode == 0, $"{knob}=0: exit code {p.ExitCode}\n{stdout}\n{await stderr}");
        Assert.Contains("Failed: 0", stdout);
    }
}
