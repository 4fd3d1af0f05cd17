namespace Loom.Scheduling;

/// <summary>
/// The sizes of cpu0's caches, from Linux's sysfs, with a default where it names none: a machine fact beside the profile's
/// probes (<see cref="MemoryProbe"/> sizes its buffer by the last level; the stream planner sizes stages by the private
/// cache and batches weights that outgrow the last level).
/// </summary>
internal static class CacheSizes
{
    /// <summary>The private (per-core) cache: the largest cache level of cpu0 shared by one core only; 1 MiB when unknown.</summary>
    public static long PrivateBytes() => CacheBytes(shared: false, 1L << 20);

    /// <summary>
    /// The last-level cache: the largest cache of cpu0, shared or not; 32 MiB when unknown — one Zen core complex's L3 (Zen 2 to
    /// 5). This project's Zen 5 VM shows no sysfs cache folders and CPUID does not help either (leaf 0x8000001D is empty and
    /// 0x80000006 reports the socket's 508 MiB): the 8 MiB guess this replaced batched Inception v1 and DenseNet-121, whose
    /// 22–27 MiB of weights the L3 holds.
    /// </summary>
    public static long LastLevelBytes() => CacheBytes(shared: true, 32L << 20);

    private static long CacheBytes(bool shared, long unknown)
    {
        long best = 0;
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
            {
                var cpus = File.ReadAllText(Path.Combine(dir, "shared_cpu_list")).Trim();
                if (!shared && (cpus.Contains(',') || cpus.Contains('-'))) continue; // shared by several cores
                var size = File.ReadAllText(Path.Combine(dir, "size")).Trim();
                long v = size.EndsWith('K') ? long.Parse(size[..^1]) * 1024 : size.EndsWith('M') ? long.Parse(size[..^1]) << 20 : long.Parse(size);
                best = Math.Max(best, v);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return best > 0 ? best : unknown;
    }
}
