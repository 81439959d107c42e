import Foundation

/// A Prometheus text-exposition document (the node_exporter textfile collector's format): HELP and TYPE
/// for every family, no sample timestamps, no duplicate series, histogram buckets cumulative and ascending
/// ending in `+Inf` with `_sum` and `_count`. `render()` checks these itself and refuses a document that breaks them.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable { case gauge, counter, histogram }

    struct Family {
        var name: String
        var help: String
        var kind: Kind
        var samples: [(suffix: String, labels: [(String, String)], value: Double)]
    }

    private var families: [Family] = []

    public init() {}

    public mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        add(name, help, .gauge, suffix: "", labels: labels, value: value)
    }

    /// A counter; `name` must end in `_total`.
    public mutating func counter(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        add(name, help, .counter, suffix: "", labels: labels, value: value)
    }

    /// A histogram from observations, with the given ascending upper bounds (`+Inf` is added).
    public mutating func histogram(_ name: String, _ help: String, bounds: [Double], observations: [(labels: [(String, String)], value: Double)]) {
        if let existing = families.firstIndex(where: { $0.name == name }), families[existing].kind != .histogram { return }
        var byLabels: [String: (labels: [(String, String)], values: [Double])] = [:]
        var order: [String] = []
        for o in observations {
            let key = o.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            if byLabels[key] == nil { order.append(key); byLabels[key] = (o.labels, []) }
            byLabels[key]?.values.append(o.value)
        }
        for key in order {
            guard let group = byLabels[key] else { continue }
            for bound in bounds {
                add(name, help, .histogram, suffix: "_bucket", labels: group.labels + [("le", Self.format(bound))], value: Double(group.values.filter { $0 <= bound }.count))
            }
            add(name, help, .histogram, suffix: "_bucket", labels: group.labels + [("le", "+Inf")], value: Double(group.values.count))
            add(name, help, .histogram, suffix: "_sum", labels: group.labels, value: group.values.reduce(0, +))
            add(name, help, .histogram, suffix: "_count", labels: group.labels, value: Double(group.values.count))
        }
        if order.isEmpty, families.first(where: { $0.name == name }) == nil {
            families.append(Family(name: name, help: help, kind: .histogram, samples: []))
        }
    }

    private mutating func add(_ name: String, _ help: String, _ kind: Kind, suffix: String, labels: [(String, String)], value: Double) {
        if let i = families.firstIndex(where: { $0.name == name }) {
            families[i].samples.append((suffix, labels, value))
        } else {
            families.append(Family(name: name, help: help, kind: kind, samples: [(suffix, labels, value)]))
        }
    }

    /// A problem that would make the document invalid.
    public struct Invalid: Error, CustomStringConvertible {
        public let message: String
        public var description: String { "invalid metrics: \(message)" }
    }

    public func render() throws -> String {
        var out = ""
        var seen = Set<String>()
        for family in families {
            guard Self.isValidName(family.name) else { throw Invalid(message: "metric name \(family.name)") }
            if family.kind == .counter && !family.name.hasSuffix("_total") { throw Invalid(message: "counter \(family.name) must end in _total") }
            out += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                let labels = sample.labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",")
                let series = family.name + sample.suffix + (labels.isEmpty ? "" : "{\(labels)}")
                guard seen.insert(series).inserted else { throw Invalid(message: "duplicate series \(series)") }
                out += "\(series) \(Self.format(sample.value))\n"
            }
        }
        return out
    }

    /// `[A-Za-z_:][A-Za-z0-9_:]*`, checked on the bytes (no Unicode property look-ups: this runs at every cycle's end).
    static func isValidName(_ name: String) -> Bool {
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x3A }
        guard let first = name.utf8.first, isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// `\` → `\\`, `"` → `\"`, line feed → `\n`: the exposition format's escapes of a label value, byte by byte (so a
    /// combining mark after one of them does not hide it, as it did from a search by characters).
    static func escapeLabel(_ s: String) -> String { escape(s, quote: true) }

    /// `\` → `\\`, line feed → `\n`: the escapes of a help text.
    static func escapeHelp(_ s: String) -> String { escape(s, quote: false) }

    static func escape(_ s: String, quote: Bool) -> String {
        // The job's help texts and label values hold nothing to escape: they are returned as they are.
        guard s.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || (quote && $0 == 0x22) }) else { return s }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count + 8)
        for b in s.utf8 {
            switch b {
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x22 where quote: bytes += [0x5C, 0x22]
            default: bytes.append(b)
            }
        }
        // Only ASCII bytes were replaced by ASCII bytes: the text is as valid UTF-8 as it was.
        return String(decoding: bytes, as: UTF8.self)
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
