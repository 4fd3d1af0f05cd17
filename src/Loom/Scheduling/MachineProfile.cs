using System.Runtime.Intrinsics;
using System.Text.Json;

namespace Loom.Scheduling;

/// <summary>How the cost model groups kernels: each group's time grows linearly with its own measure of work.</summary>
public enum KernelClass
{
    /// <summary>1×1 convolutions, MatMul, Gemm: work is FLOPs.</summary>
    Gemm,
    /// <summary>Convolutions with a spatial kernel, one group (and ConvTranspose): work is FLOPs.</summary>
    Conv,
    /// <summary>Grouped and depthwise convolutions: work is FLOPs.</summary>
    GroupedConv,
    /// <summary>Max/average pooling and LRN: work is FLOPs.</summary>
    Pool,
    /// <summary>Everything else (element-wise, data movement, reductions): work is bytes read and written.</summary>
    Memory,
    /// <summary>
    /// 3×3 stride-1 convolutions on the Winograd F(2×2, 3×3) path (<c>ConvWinograd</c>): work is twice the multiply-adds of the
    /// products as computed, packed bytes those the path moves (planes, transformed tiles and products). Timed apart from
    /// <see cref="Conv"/>: per multiply-add and over several threads they behave unlike the paths they replace.
    /// </summary>
    Winograd,
    /// <summary>
    /// The same on the F(4×4, 3×3) path (<c>ConvWinograd4</c>): its products run slower per multiply-add and its larger layers
    /// split over threads unlike F(2×2)'s (ResNet-50, 2 threads, idle: 1.35–1.4× at 56×56 and 28×28, F(2×2) 1.85× at 14×14).
    /// </summary>
    Winograd4,
}

/// <summary>
/// Time of a kernel: a fixed cost per call, a cost per unit of work (FLOPs or bytes, by class) and, for
/// matrix-product kernels, a cost per byte of the operands they pack (weights and im2col columns).
/// </summary>
public sealed record KernelTiming(double OverheadSeconds, double SecondsPerWork, double SecondsPerPackedByte = 0)
{
    public double Seconds(double work, double packedBytes = 0) => OverheadSeconds + work * SecondsPerWork + packedBytes * SecondsPerPackedByte;
}

/// <summary>
/// What the machine's cores do with Loom's kernels, measured by <see cref="MachineProbes"/>: per
/// <see cref="KernelClass"/> a timing on one thread and on all <see cref="Threads"/> intra-op threads,
/// timings of common element-wise and pooling operators on one thread, and the cost of moving data
/// between cores. Cached per machine and build, so a schedule is the same for the same model, options
/// and machine.
/// </summary>
public sealed record MachineProfile
{
    public required string Machine { get; init; }
    public required int Threads { get; init; }

    /// <summary>One timing per <see cref="KernelClass"/>, on one thread.</summary>
    public required KernelTiming[] Single { get; init; }

    /// <summary>One timing per <see cref="KernelClass"/>, with <see cref="Threads"/> intra-op threads.</summary>
    public required KernelTiming[] Wide { get; init; }

    /// <summary>
    /// Per <see cref="KernelClass"/>: how much slower a one-thread kernel runs while the other threads run kernels too (a
    /// parallel stage, a split batch) than alone. Empty (every factor 1) in profiles without it.
    /// </summary>
    public double[] Beside { get; init; } = [];

    /// <summary>The <see cref="Beside"/> factor of a class (1 where the profile has none).</summary>
    public double BesideFactor(KernelClass cls) => (int)cls < Beside.Length ? Beside[(int)cls] : 1;

    /// <summary>
    /// Timings on one thread of operators measured on their own (LRN costs far more per byte than Relu),
    /// by op type; their work is that of their class.
    /// </summary>
    public Dictionary<string, KernelTiming> Ops { get; init; } = new();

    /// <summary>Cost of a value crossing cores: a fixed signalling cost plus a cost per byte (the work).</summary>
    public required KernelTiming Transfer { get; init; }

    /// <summary>
    /// Bytes per second one core reads from memory (<see cref="MemoryProbe"/>): what a stage whose weights outgrow the last-level
    /// cache pays per item to read them. 0 in a profile without it (<see cref="MemorySecondsPerByte"/> then assumes 10 GB/s).
    /// </summary>
    public double MemoryBytesPerSecond { get; init; }

    /// <summary>Seconds per byte read from memory: <see cref="MemoryBytesPerSecond"/>, or 10 GB/s where the profile has none.</summary>
    [System.Text.Json.Serialization.JsonIgnore] // derived: not in the cache file (MachineProfileJson), nor in the serializer's of earlier builds
    public double MemorySecondsPerByte => 1 / (MemoryBytesPerSecond > 0 ? MemoryBytesPerSecond : MemoryProbe.AssumedBytesPerSecond);

    /// <summary>
    /// When probed in this process, how much of the threads the probe's kernels got (<see cref="ProbeScaling"/>): well below
    /// <see cref="Threads"/>, the cores were busy and the profile is cached only for half an hour.
    /// Null when fixed or read from the cache of a quiet probe (kept when read from that of a busy one).
    /// </summary>
    public double? ParallelScaling { get; init; }

    /// <summary>
    /// How many probes in a row, each started because a quick check read the cores quiet, still read them busy: a machine whose
    /// probes disagree with the check this way (this VM, whose second vCPU slows for seconds at a time) stops re-probing at
    /// <see cref="MaxBusyProbes"/> until the profile's half hour is over.
    /// </summary>
    public int BusyProbes { get; init; }

    /// <summary>
    /// A fixed profile (a 2024 desktop core, kernels that double with two threads) for tests and for
    /// reproducible schedules across machines.
    /// </summary>
    public static MachineProfile Fixed(int threads) => new()
    {
        Machine = "fixed",
        Threads = threads,
        // Winograd layers as the other spatial convolutions (same rate per unit of work), as before they had a class of their own.
        Single = [new(4e-6, 1 / 40e9), new(5e-6, 1 / 35e9), new(3e-6, 1 / 6e9), new(2e-6, 1 / 4e9), new(1e-6, 1 / 10e9), new(5e-6, 1 / 35e9), new(5e-6, 1 / 35e9)],
        Wide = [new(8e-6, 1 / (40e9 * threads * 0.9)), new(9e-6, 1 / (35e9 * threads * 0.9)), new(6e-6, 1 / (6e9 * threads * 0.8)),
            new(5e-6, 1 / (4e9 * threads * 0.8)), new(4e-6, 1 / (10e9 * Math.Min(threads, 2) * 0.8)), new(9e-6, 1 / (35e9 * threads * 0.9)),
            new(9e-6, 1 / (35e9 * threads * 0.9))],
        Transfer = new(2e-6, 1 / 20e9),
        MemoryBytesPerSecond = 10e9,
    };

    /// <summary>This machine's profile for <paramref name="threads"/> threads: from the cache, else probed and cached.</summary>
    public static MachineProfile ForThisMachine(int threads)
    {
        // The vector width is part of the machine: a process started with DOTNET_EnableAVX512=0 (or no intrinsics at
        // all) runs other kernels at other speeds, and its profile must neither be read nor overwrite the full one.
        string machine = $"{CpuModel()}, {VectorIsa()}, {Environment.ProcessorCount} cores, {threads} threads, Loom build {typeof(MachineProfile).Assembly.ManifestModule.ModuleVersionId:N}";
        double quietBar = QuietBar(threads);
        string file = Path.Combine(CacheFolder(), $"machine-{Hash(machine)}.json");
        lock (CacheLock)
        {
            if (Cached.TryGetValue(machine, out var known)) return known;
            // A profile probed on busy cores is replaced as soon as a process starts on quiet ones (one FMA check, ~10 ms):
            // kept for its half hour, it gave the schedules of a quiet machine the busy one's two-thread speeds.
            var read = TryRead(file, machine);
            if (read is not null && KeepCached(read, quietBar, () => ParallelScalingCheck.Measure(threads)))
                return Cached[machine] = read;
            // Probed while other processes held the cores, two-thread timings describe the load, not the machine. Such a
            // profile is cached too, marked with its scaling, but only for BusyProfileLifetime: re-probing in every
            // process cost each fresh load ~350 ms of CPU (most of it JIT), and under load every probe was busy anyway.
            // The probes' own first runs also keep a core busy for a few hundred milliseconds after them (the JIT
            // recompiling the kernels they called), so a second attempt, with the kernels compiled, is often clean.
            MachineProfile profile = null!;
            double scaling = 0;
            for (int attempt = 0; attempt < ProbeAttempts; attempt++)
            {
                if (attempt > 0) Thread.Sleep(500);
                var probed = MachineProbes.Run(machine, threads);
                double quiet = ProbeScaling(probed, threads);
                if (attempt == 0 || quiet > scaling) (profile, scaling) = (probed, quiet);
                if (scaling >= quietBar) break;
            }
            TryWrite(file, scaling >= quietBar ? profile : profile with { ParallelScaling = scaling, BusyProbes = (read?.BusyProbes ?? 0) + 1 });
            return Cached[machine] = profile with { ParallelScaling = scaling };
        }
    }

    /// <summary>
    /// How much of the threads a probe's own kernels got: the matrix products' scaling, or a convolution class's where it is
    /// clearly under what quiet cores give. Convolution classes: one profile had the 3×3 and strided layers at 1.00× and ran
    /// ResNet-50's downsampling branches side by side; another (2026-11-27 10:07, cached for good) had Conv at 1.26× and
    /// F(2×2) at 1.30×, and made SqueezeNet's schedule 27% slower than splitting every node and AlexNet's and ZFNet's batch of
    /// 4 split into copies 8–12% slower than not. Quiet, two threads: Conv 1.73–1.93×, F(2×2) 1.82–1.95×, F(4×4) 1.35–1.73×,
    /// so its floor stays low. Grouped convolutions and pools have floors too since the checks below stopped counting: probes
    /// with all else quiet had pools at 1.12× and grouped convolutions at 1.43× (quiet, Zen 4: pools 1.62–1.82×, grouped 1.76–1.97×).
    /// The element-wise class has none: bound by memory, it may gain little from a second thread on a quiet machine too.
    /// FMA checks before and after the probe no longer count: they sample the machine, not the probe, and disagreed with it
    /// both ways — quiet checks (1.94×, 2.00×) around probes whose products or convolutions ran at 1.0×, and checks of
    /// 0.89–1.23× around probes whose every class scaled as on quiet cores (2026-11-29 11:25–11:27, Zen 4 host: Gemm 1.93–1.94×,
    /// Conv 1.79–1.82×, F(2×2) 1.87–1.89×), which turned side-by-side branches off for half an hour.
    /// </summary>
    internal static double ProbeScaling(MachineProfile probed, int threads)
    {
        double quiet = probed.GemmScaling;
        foreach (var (c, floor) in (ReadOnlySpan<(KernelClass, double)>)[(KernelClass.Conv, 0.5), (KernelClass.Winograd, 0.5), (KernelClass.Winograd4, 0.2),
                     (KernelClass.GroupedConv, 0.5), (KernelClass.Pool, 0.3)])
            if (probed.Scaling(c) < 1 + floor * (threads - 1)) quiet = Math.Min(quiet, probed.Scaling(c));
        return quiet;
    }

    /// <summary>
    /// Whether a profile read from the cache serves this process: probed on quiet cores, or its busy probes already repeated
    /// <see cref="MaxBusyProbes"/> times, or the cores are busy now too (<paramref name="check"/>, run only when it decides).
    /// </summary>
    internal static bool KeepCached(MachineProfile read, double quietBar, Func<double> check) =>
        read.ParallelScaling is not { } was || was >= quietBar || read.BusyProbes >= MaxBusyProbes || check() < quietBar;

    /// <summary>Probed in this process on cores that did clearly less than <see cref="Threads"/>-fold work (see <see cref="ParallelScaling"/>).</summary>
    public bool ProbedBusy => ParallelScaling is { } s && s < QuietBar(Threads);

    /// <summary>How much faster the matrix-product probes ran with all threads than with one (work only, fixed costs aside).</summary>
    internal double GemmScaling => Scaling(KernelClass.Gemm);

    /// <summary>How much faster a class's probes ran with all threads than with one (work only, fixed costs aside).</summary>
    internal double Scaling(KernelClass c) => Wide[(int)c].SecondsPerWork is > 0 and var wide ? Single[(int)c].SecondsPerWork / wide : Threads;

    /// <summary>Share of T-fold FMA throughput that T threads must reach for a probed profile to be cached for good (a busier one is kept <see cref="BusyProfileLifetime"/>).</summary>
    private const double QuietScaling = 0.8;

    /// <summary>
    /// More threads than cores can never do threads-fold work, so the bar counts the cores they can use. Counted against all
    /// the threads, every probe for three threads on two cores read busy, and each process re-probed (twice) every half hour.
    /// </summary>
    private static double QuietBar(int threads) => QuietScaling * Math.Min(threads, Environment.ProcessorCount);

    /// <summary>Probing (three rounds) took ~2 s here at load 6; a busy machine pays it (and a 0.5 s pause) this many times, once per half hour.</summary>
    private const int ProbeAttempts = 2;

    /// <summary>
    /// Busy probes in a row after which a busy profile is kept for the rest of its half hour even when the quick check reads the
    /// cores quiet. On the host of 2026-11-28 the probe (the lowest of two checks and the product classes' own scaling) read busy
    /// in most processes while the check read quiet, so every other fresh process probed again: `loom explain` took 7.4–8.1 s
    /// instead of 0.27–0.41 s for seven of nine light models in a row (12:45 UTC).
    /// </summary>
    internal const int MaxBusyProbes = 2;

    /// <summary>How long a profile probed on busy cores is reused before a process probes again (hoping for quiet).</summary>
    private static readonly TimeSpan BusyProfileLifetime = TimeSpan.FromMinutes(30);

    private static readonly int Classes = Enum.GetValues<KernelClass>().Length;

    private static readonly Lock CacheLock = new();
    private static readonly Dictionary<string, MachineProfile> Cached = new();

    private static MachineProfile? TryRead(string file, string machine)
    {
        try
        {
            if (!File.Exists(file)) return null;
            var p = MachineProfileJson.Read(File.ReadAllBytes(file));
            if (p is null || p.Single.Length != Classes || p.Wide.Length != Classes || p.Machine != machine) return null;
            bool busy = p.ParallelScaling is { } s && s < QuietBar(p.Threads);
            return busy && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > BusyProfileLifetime ? null : p;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException) { return null; }
    }

    private static void TryWrite(string file, MachineProfile profile)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var temp = file + $".{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, MachineProfileJson.Write(profile));
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a cache that cannot be written only costs a re-probe
    }

    private static string CacheFolder()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "loom");
    }

    private static string VectorIsa() =>
        Vector512.IsHardwareAccelerated ? "512-bit vectors" : Vector256.IsHardwareAccelerated ? "256-bit vectors"
        : Vector128.IsHardwareAccelerated ? "128-bit vectors" : "no vector intrinsics";

    /// <summary>
    /// The first "model name" of /proc/cpuinfo. Read as bytes: File.ReadLines (a StreamReader's first use in the process) cost
    /// a fresh load ~10 ms.
    /// </summary>
    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                ReadOnlySpan<byte> rest = File.ReadAllBytes("/proc/cpuinfo");
                while (!rest.IsEmpty)
                {
                    int end = rest.IndexOf((byte)'\n');
                    var line = end < 0 ? rest : rest[..end];
                    rest = end < 0 ? default : rest[(end + 1)..];
                    if (line.StartsWith("model name"u8))
                        return System.Text.Encoding.UTF8.GetString(line[(line.IndexOf((byte)':') + 1)..]).Trim();
                }
            }
        }
        catch (IOException) { }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>
    /// FNV-1a (64 bits) of the UTF-8 bytes: the file name only has to be stable and tell machines and builds apart. SHA-256
    /// loaded the cryptography assembly and OpenSSL into every fresh process for it.
    /// </summary>
    internal static string Hash(string s)
    {
        ulong h = 14695981039346656037;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(s)) h = (h ^ b) * 1099511628211;
        return h.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}
