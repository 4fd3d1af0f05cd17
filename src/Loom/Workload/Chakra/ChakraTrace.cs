using System.Globalization;
using Google.Protobuf;
using Loom.IO;
using Loom.Workload.Chakra.Proto;
using PNode = Loom.Workload.Chakra.Proto.Node;

namespace Loom.Workload.Chakra;

/// <summary>
/// Chakra execution-trace files: one per rank, <c>PREFIX.RANK.et</c>, a stream of length-delimited
/// protobuf messages — <c>GlobalMetadata</c> first, then one <c>Node</c> per workload node.
/// </summary>
public static class ChakraTrace
{
    public static string FileName(string prefix, int rank) => $"{prefix}.{rank}.et";

    public static void Write(RankWorkload w, string path) => AtomicFile.Write(path, s => Write(w, s));

    public static void Write(RankWorkload w, Stream s)
    {
        var meta = new GlobalMetadata { Version = ChakraNodes.Version };
        meta.Attr.Add(new AttributeProto { Name = "rank", Int64Val = w.Rank });
        meta.Attr.Add(new AttributeProto { Name = "static_bytes", Int64Val = w.StaticBytes });
        foreach (var (k, v) in w.Metadata)
            meta.Attr.Add(new AttributeProto { Name = "meta." + k, StringVal = v });
        meta.WriteDelimitedTo(s);
        foreach (var n in w.Nodes) ChakraNodes.ToProto(n).WriteDelimitedTo(s);
    }

    public static RankWorkload Read(string path)
    {
        if (!File.Exists(path)) throw new TraceFormatException($"{path}: no such Chakra trace");
        using var s = File.OpenRead(path);
        return Read(s, path);
    }

    public static RankWorkload Read(Stream s, string origin = "Chakra trace")
    {
        try
        {
            var meta = ReadDelimited(s, GlobalMetadata.Parser, origin)
                ?? throw new TraceFormatException($"{origin}: empty file (a Chakra trace starts with GlobalMetadata)");
            int rank = -1; long staticBytes = 0;
            var md = new Dictionary<string, string>();
            foreach (var a in meta.Attr)
            {
                if (a.Name == "rank") rank = (int)a.Int64Val;
                else if (a.Name == "static_bytes") staticBytes = a.Int64Val;
                else if (a.Name.StartsWith("meta.", StringComparison.Ordinal)) md[a.Name[5..]] = a.StringVal;
            }
            if (rank < 0 && md.TryGetValue("rank", out var rs)) rank = int.Parse(rs, CultureInfo.InvariantCulture);
            var nodes = new List<WorkloadNode>();
            while (ReadDelimited(s, PNode.Parser, origin) is { } p)
                nodes.Add(ChakraNodes.FromProto(p, origin));
            var ids = new HashSet<long>();
            foreach (var n in nodes)
                if (!ids.Add(n.Id)) throw new TraceFormatException($"{origin}: node id {n.Id} appears twice");
            foreach (var n in nodes)
                foreach (var d in n.DataDeps.Concat(n.CtrlDeps))
                    if (!ids.Contains(d)) throw new TraceFormatException($"{origin}: node {n.Id} '{n.Name}' depends on node {d}, which the file does not hold");
            return new RankWorkload { Rank = Math.Max(rank, 0), Nodes = nodes, StaticBytes = staticBytes, Metadata = md };
        }
        catch (InvalidProtocolBufferException e) { throw new TraceFormatException($"{origin}: not a Chakra trace ({e.Message})", e); }
        catch (InvalidDataException e) { throw new TraceFormatException($"{origin}: not a Chakra trace ({e.Message})", e); }
    }

    /// <summary>
    /// One length-delimited message, or null at the end of the stream. Read by hand because protobuf's
    /// own reader parses what is there when a message is cut short; a truncated file must be an error.
    /// </summary>
    private static T? ReadDelimited<T>(Stream s, MessageParser<T> parser, string origin) where T : class, IMessage<T>
    {
        long at = s.Position;
        int first = s.ReadByte();
        if (first < 0) return null;
        ulong length = 0;
        int shift = 0;
        for (int b = first; ; b = s.ReadByte())
        {
            if (b < 0 || shift > 35) throw new TraceFormatException($"{origin}: bad message length at byte {at}");
            length |= (ulong)(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0) break;
        }
        if (length > (ulong)(s.Length - s.Position))
            throw new TraceFormatException($"{origin}: message at byte {at} claims {length} bytes but only {s.Length - s.Position} remain (truncated file?)");
        var buffer = new byte[length];
        s.ReadExactly(buffer);
        return parser.ParseFrom(buffer);
    }
}
