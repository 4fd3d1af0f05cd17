using System.Buffers;
using System.Text.Json;

namespace Loom.Scheduling;

/// <summary>
/// The machine-profile cache file, written and read field by field with <see cref="Utf8JsonWriter"/> and
/// <see cref="Utf8JsonReader"/>. The serializer (reflection-based, then source-generated) cost every fresh process
/// 50–80 ms and ~140 JIT-compiled methods of its generic machinery to read one small file on the first load. The format is
/// the serializer's (same names, numbers in round-trip form), so a value read back is the value written.
/// </summary>
internal static class MachineProfileJson
{
    public static string Write(MachineProfile p)
    {
        var buffer = new ArrayBufferWriter<byte>(8192);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString(nameof(MachineProfile.Machine), p.Machine);
            w.WriteNumber(nameof(MachineProfile.Threads), p.Threads);
            WriteTimings(w, nameof(MachineProfile.Single), p.Single);
            WriteTimings(w, nameof(MachineProfile.Wide), p.Wide);
            w.WriteStartArray(nameof(MachineProfile.Beside));
            foreach (double b in p.Beside) w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteStartObject(nameof(MachineProfile.Ops));
            foreach (var (op, t) in p.Ops) { w.WritePropertyName(op); WriteTiming(w, t); }
            w.WriteEndObject();
            w.WritePropertyName(nameof(MachineProfile.Transfer));
            WriteTiming(w, p.Transfer);
            w.WriteNumber(nameof(MachineProfile.MemoryBytesPerSecond), p.MemoryBytesPerSecond);
            if (p.ParallelScaling is { } s) w.WriteNumber(nameof(MachineProfile.ParallelScaling), s);
            else w.WriteNull(nameof(MachineProfile.ParallelScaling));
            w.WriteNumber(nameof(MachineProfile.BusyProbes), p.BusyProbes);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The profile in <paramref name="utf8"/>; null when a required field is missing. Malformed JSON throws <see cref="JsonException"/>.</summary>
    public static MachineProfile? Read(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        Next(ref r, JsonTokenType.StartObject);
        string? machine = null;
        int? threads = null;
        KernelTiming[]? single = null, wide = null;
        KernelTiming? transfer = null;
        double[] beside = [];
        var ops = new Dictionary<string, KernelTiming>();
        double memory = 0;
        double? scaling = null;
        int busyProbes = 0;
        while (Read(ref r) != JsonTokenType.EndObject)
        {
            string name = Expect(ref r, JsonTokenType.PropertyName).GetString()!;
            Read(ref r);
            switch (name)
            {
                case nameof(MachineProfile.Machine): machine = r.TokenType == JsonTokenType.Null ? null : r.GetString(); break;
                case nameof(MachineProfile.Threads): threads = r.GetInt32(); break;
                case nameof(MachineProfile.Single): single = ReadTimings(ref r); break;
                case nameof(MachineProfile.Wide): wide = ReadTimings(ref r); break;
                case nameof(MachineProfile.Beside): beside = ReadNumbers(ref r); break;
                case nameof(MachineProfile.Ops):
                    Expect(ref r, JsonTokenType.StartObject);
                    while (Read(ref r) != JsonTokenType.EndObject)
                    {
                        string op = Expect(ref r, JsonTokenType.PropertyName).GetString()!;
                        Read(ref r);
                        ops[op] = ReadTiming(ref r);
                    }
                    break;
                case nameof(MachineProfile.Transfer): transfer = ReadTiming(ref r); break;
                case nameof(MachineProfile.MemoryBytesPerSecond): memory = r.GetDouble(); break;
                case nameof(MachineProfile.ParallelScaling): scaling = r.TokenType == JsonTokenType.Null ? null : r.GetDouble(); break;
                case nameof(MachineProfile.BusyProbes): busyProbes = r.GetInt32(); break;
                default: r.Skip(); break; // a field of another build (ProbedBusy, written by the serializer)
            }
        }
        if (machine is null || threads is null || single is null || wide is null || transfer is null) return null;
        return new MachineProfile
        {
            Machine = machine, Threads = threads.Value, Single = single, Wide = wide, Beside = beside, Ops = ops, Transfer = transfer,
            MemoryBytesPerSecond = memory, ParallelScaling = scaling, BusyProbes = busyProbes,
        };
    }

    private static void WriteTimings(Utf8JsonWriter w, string name, KernelTiming[] timings)
    {
        w.WriteStartArray(name);
        foreach (var t in timings) WriteTiming(w, t);
        w.WriteEndArray();
    }

    private static void WriteTiming(Utf8JsonWriter w, KernelTiming t)
    {
        w.WriteStartObject();
        w.WriteNumber(nameof(KernelTiming.OverheadSeconds), t.OverheadSeconds);
        w.WriteNumber(nameof(KernelTiming.SecondsPerWork), t.SecondsPerWork);
        w.WriteNumber(nameof(KernelTiming.SecondsPerPackedByte), t.SecondsPerPackedByte);
        w.WriteEndObject();
    }

    private static KernelTiming[] ReadTimings(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartArray);
        var list = new List<KernelTiming>();
        while (Read(ref r) != JsonTokenType.EndArray) list.Add(ReadTiming(ref r));
        return list.ToArray();
    }

    private static KernelTiming ReadTiming(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject);
        double overhead = 0, perWork = 0, perPacked = 0;
        while (Read(ref r) != JsonTokenType.EndObject)
        {
            string name = Expect(ref r, JsonTokenType.PropertyName).GetString()!;
            Read(ref r);
            switch (name)
            {
                case nameof(KernelTiming.OverheadSeconds): overhead = r.GetDouble(); break;
                case nameof(KernelTiming.SecondsPerWork): perWork = r.GetDouble(); break;
                case nameof(KernelTiming.SecondsPerPackedByte): perPacked = r.GetDouble(); break;
                default: r.Skip(); break;
            }
        }
        return new KernelTiming(overhead, perWork, perPacked);
    }

    private static double[] ReadNumbers(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartArray);
        var list = new List<double>();
        while (Read(ref r) != JsonTokenType.EndArray) list.Add(r.GetDouble());
        return list.ToArray();
    }

    private static JsonTokenType Read(ref Utf8JsonReader r) =>
        r.Read() ? r.TokenType : throw new JsonException("machine profile: the file ends early");

    private static void Next(ref Utf8JsonReader r, JsonTokenType type)
    {
        Read(ref r);
        Expect(ref r, type);
    }

    private static ref Utf8JsonReader Expect(ref Utf8JsonReader r, JsonTokenType type)
    {
        if (r.TokenType != type) throw new JsonException($"machine profile: {type} expected, {r.TokenType} found");
        return ref r;
    }
}
