using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Workload;

/// <summary>How the devices are wired; it decides which collective algorithms are possible and what they cost.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Topology>))]
public enum Topology
{
    /// <summary>Each device talks to two neighbours; collectives run as rings.</summary>
    Ring,
    /// <summary>A non-blocking switch: any pair at full link bandwidth; collectives pick ring or tree, whichever is faster.</summary>
    Switch,
    /// <summary>A 2-D torus (rows × columns as square as the group allows); collectives run one ring per dimension.</summary>
    Torus2D,
}

/// <summary>One accelerator (or CPU core): its roofline and its memory.</summary>
public sealed record DeviceSpec
{
    /// <summary>Peak FLOP/s a matrix product reaches.</summary>
    public double PeakFlops { get; init; } = 100e12;
    /// <summary>Memory bandwidth in bytes/s.</summary>
    public double MemoryBandwidth { get; init; } = 1.5e12;
    /// <summary>Memory capacity in bytes (peak memory above it is reported, not refused).</summary>
    public double MemoryBytes { get; init; } = 40e9;
    /// <summary>Fixed cost of launching one kernel, seconds.</summary>
    public double KernelOverhead { get; init; } = 5e-6;
}

/// <summary>A link: bandwidth in bytes/s per direction and latency (α) in seconds.</summary>
public sealed record LinkSpec
{
    public double Bandwidth { get; init; } = 25e9;
    public double Latency { get; init; } = 5e-6;
}

/// <summary>
/// A cluster: <see cref="Devices"/> identical devices, <see cref="DevicesPerNode"/> to a node joined by
/// <see cref="IntraNodeLink"/>, nodes joined by <see cref="Link"/> in <see cref="Topology"/>. A group of
/// ranks inside one node uses the intra-node link; a group spanning nodes is limited by the inter-node one.
/// </summary>
public sealed record ClusterSpec
{
    public string Name { get; init; } = "cluster";
    public int Devices { get; init; } = 1;
    public int DevicesPerNode { get; init; } = 1;
    public DeviceSpec Device { get; init; } = new();
    public LinkSpec Link { get; init; } = new();
    public LinkSpec? IntraNodeLink { get; init; }
    public Topology Topology { get; init; } = Topology.Switch;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static ClusterSpec Load(string path)
    {
        if (!File.Exists(path)) throw new WorkloadException($"{path}: no such cluster file");
        return Parse(File.ReadAllText(path), path);
    }

    public static ClusterSpec Parse(string json, string origin = "cluster JSON")
    {
        ClusterSpec? spec;
        try { spec = JsonSerializer.Deserialize<ClusterSpec>(json, Json); }
        catch (JsonException e)
        {
            var hint = e.Path == "$.topology" ? " (topology is ring, switch or torus2D)" : "";
            throw new WorkloadException($"{origin}: {e.Message}{hint}", e);
        }
        return (spec ?? throw new WorkloadException($"{origin}: empty cluster description")).Validated(origin);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>This spec, or an error naming the first field that cannot describe a cluster.</summary>
    public ClusterSpec Validated(string origin = "cluster")
    {
        void Positive(double v, string field)
        {
            if (!(v > 0) || double.IsInfinity(v)) throw new WorkloadException($"{origin}: {field} must be a positive number (got {v})");
        }
        if (Devices < 1) throw new WorkloadException($"{origin}: devices must be at least 1 (got {Devices})");
        if (DevicesPerNode < 1) throw new WorkloadException($"{origin}: devicesPerNode must be at least 1 (got {DevicesPerNode})");
        Positive(Device.PeakFlops, "device.peakFlops");
        Positive(Device.MemoryBandwidth, "device.memoryBandwidth");
        Positive(Device.MemoryBytes, "device.memoryBytes");
        if (Device.KernelOverhead < 0) throw new WorkloadException($"{origin}: device.kernelOverhead must not be negative");
        foreach (var (l, n) in new[] { (Link, "link"), (IntraNodeLink, "intraNodeLink") })
        {
            if (l is null) continue;
            Positive(l.Bandwidth, n + ".bandwidth");
            if (l.Latency < 0) throw new WorkloadException($"{origin}: {n}.latency must not be negative");
        }
        return this;
    }

    /// <summary>The link a group of ranks communicates over: intra-node if all sit in one node.</summary>
    public LinkSpec LinkFor(IReadOnlyList<int> ranks)
    {
        if (IntraNodeLink is null || ranks.Count == 0) return Link;
        int node = ranks[0] / DevicesPerNode;
        foreach (var r in ranks) if (r / DevicesPerNode != node) return Link;
        return IntraNodeLink;
    }
}
