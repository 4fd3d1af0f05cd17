using System.Text.Json;
using System.Text.Json.Serialization;
using Loom.IO;

namespace Loom.Workload;

/// <summary>A rank's workload as readable JSON (same content as its Chakra file), and back.</summary>
public static class WorkloadJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string FileName(string prefix, int rank) => $"{prefix}.{rank}.json";

    public static string Serialize(RankWorkload w) => JsonSerializer.Serialize(w, Options);

    public static void Write(RankWorkload w, string path) => AtomicFile.WriteAllText(path, Serialize(w));

    public static RankWorkload Read(string path)
    {
        if (!File.Exists(path)) throw new TraceFormatException($"{path}: no such workload JSON file");
        return Parse(File.ReadAllText(path), path);
    }

    public static RankWorkload Parse(string json, string origin = "workload JSON")
    {
        try
        {
            return JsonSerializer.Deserialize<RankWorkload>(json, Options) ?? throw new TraceFormatException($"{origin}: empty");
        }
        catch (JsonException e) { throw new TraceFormatException($"{origin}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new TraceFormatException($"{origin}: {e.Message}", e); }
    }
}
