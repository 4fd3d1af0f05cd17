using Google.Protobuf;
using Loom.Workload.Chakra.Proto;
using PNode = Loom.Workload.Chakra.Proto.Node;

namespace Loom.Workload.Chakra;

/// <summary>
/// Converts workload nodes to Chakra nodes and back. Chakra's own attributes carry what its tools read
/// (num_ops, tensor_size, comm_type, comm_size, comm_src, comm_dst, comm_tag, pg_name, is_cpu_op);
/// Loom's extra attributes (op, phase, bytes, exact duration in seconds, participants) make the round trip lossless.
/// </summary>
internal static class ChakraNodes
{
    public const string Version = "0.0.4";

    public static PNode ToProto(WorkloadNode n)
    {
        var p = new PNode
        {
            Id = (ulong)n.Id, Name = n.Name, Type = (NodeType)(int)n.Kind,
            DurationMicros = (ulong)Math.Round(n.Duration * 1e6),
            Inputs = new IOInfo { Shapes = n.InputShapes, Types_ = n.Types },
            Outputs = new IOInfo { Shapes = n.OutputShapes },
        };
        p.DataDeps.AddRange(n.DataDeps.Select(d => (ulong)d));
        p.CtrlDeps.AddRange(n.CtrlDeps.Select(d => (ulong)d));
        p.Attr.Add(Str("op", n.Op));
        p.Attr.Add(Str("phase", n.Phase.ToString()));
        p.Attr.Add(new AttributeProto { Name = "micro_batch", Int32Val = n.MicroBatch });
        p.Attr.Add(new AttributeProto { Name = "duration_seconds", DoubleVal = n.Duration });
        p.Attr.Add(I64("bytes_read", n.BytesRead));
        p.Attr.Add(I64("bytes_written", n.BytesWritten));
        p.Attr.Add(I64("alloc_bytes", n.AllocBytes));
        switch (n.Kind)
        {
            case WorkloadNodeKind.Compute:
                p.Attr.Add(new AttributeProto { Name = "is_cpu_op", BoolVal = false });
                p.Attr.Add(I64("num_ops", n.Flops));
                break;
            case WorkloadNodeKind.MemLoad or WorkloadNodeKind.MemStore:
                p.Attr.Add(new AttributeProto { Name = "tensor_size", Uint64Val = (ulong)n.BytesRead });
                break;
            default:
                if (n.Tag is < 0 or > int.MaxValue) throw new WorkloadException($"node '{n.Name}': tag {n.Tag} does not fit Chakra's int32 comm_tag");
                p.Attr.Add(I64("comm_size", n.CommBytes));
                p.Attr.Add(Str("pg_name", n.ProcessGroup));
                p.Attr.Add(new AttributeProto { Name = "comm_tag", Int32Val = (int)n.Tag });
                if (n.Kind == WorkloadNodeKind.Collective)
                {
                    p.Attr.Add(I64("comm_type", (long)n.Collective));
                    var ranks = new Int64List();
                    ranks.Values.AddRange(n.Ranks.Select(r => (long)r));
                    p.Attr.Add(new AttributeProto { Name = "involved_ranks", Int64List = ranks });
                }
                else
                {
                    p.Attr.Add(new AttributeProto { Name = "comm_src", Int32Val = n.Ranks[0] });
                    p.Attr.Add(new AttributeProto { Name = "comm_dst", Int32Val = n.Ranks[1] });
                }
                break;
        }
        return p;
    }

    public static WorkloadNode FromProto(PNode p, string origin)
    {
        var a = p.Attr.ToDictionary(x => x.Name);
        string S(string k) => a.TryGetValue(k, out var v) ? v.StringVal : "";
        long L(string k) => a.TryGetValue(k, out var v) ? v.ValueCase switch
        {
            AttributeProto.ValueOneofCase.Int64Val => v.Int64Val,
            AttributeProto.ValueOneofCase.Int32Val => v.Int32Val,
            AttributeProto.ValueOneofCase.Uint64Val => (long)v.Uint64Val,
            AttributeProto.ValueOneofCase.Uint32Val => v.Uint32Val,
            _ => throw new TraceFormatException($"{origin}: node {p.Id} attribute '{k}' is {v.ValueCase}, not an integer"),
        } : 0;
        int kind = (int)p.Type;
        if (kind is < 2 or > 7) throw new TraceFormatException($"{origin}: node {p.Id} '{p.Name}' has node type {p.Type}, which a workload cannot hold");
        var k = (WorkloadNodeKind)kind;
        bool isComm = k is WorkloadNodeKind.Collective or WorkloadNodeKind.Send or WorkloadNodeKind.Recv;
        IReadOnlyList<int> ranks = k == WorkloadNodeKind.Collective
            ? (a.TryGetValue("involved_ranks", out var r) ? r.Int64List?.Values.Select(x => (int)x).ToList() : null) ?? []
            : isComm ? [(int)L("comm_src"), (int)L("comm_dst")] : [];
        long bytesRead = L("bytes_read");
        if (bytesRead == 0 && a.ContainsKey("tensor_size")) bytesRead = L("tensor_size");
        return new WorkloadNode
        {
            Id = (long)p.Id, Name = p.Name, Kind = k,
            Phase = Enum.TryParse<StepPhase>(S("phase"), out var ph) ? ph : StepPhase.Forward,
            Op = S("op"), Flops = L("num_ops"), BytesRead = bytesRead, BytesWritten = L("bytes_written"), AllocBytes = L("alloc_bytes"),
            InputShapes = p.Inputs?.Shapes ?? "", OutputShapes = p.Outputs?.Shapes ?? "", Types = p.Inputs?.Types_ ?? "",
            Duration = a.TryGetValue("duration_seconds", out var d) ? d.DoubleVal : p.DurationMicros / 1e6,
            Collective = k == WorkloadNodeKind.Collective ? (CollectiveKind)L("comm_type") : default,
            CommBytes = isComm ? L("comm_size") : 0, Ranks = ranks, ProcessGroup = isComm ? S("pg_name") : "",
            Tag = isComm ? L("comm_tag") : 0, MicroBatch = (int)L("micro_batch"),
            DataDeps = p.DataDeps.Select(x => (long)x).ToList(), CtrlDeps = p.CtrlDeps.Select(x => (long)x).ToList(),
        };
    }

    private static AttributeProto Str(string name, string v) => new() { Name = name, StringVal = v };
    private static AttributeProto I64(string name, long v) => new() { Name = name, Int64Val = v };
}
