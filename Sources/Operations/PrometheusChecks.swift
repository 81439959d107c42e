import Foundation

extension PrometheusText {
    /// Checks exposition text for what promtool and the textfile collector require; returns the problems found.
    public static func problems(_ text: String) -> [String] {
        var problems: [String] = []
        var typed: [String: String] = [:]
        var helped = Set<String>()
        var series = Set<String>()
        var buckets: [String: [(Double, Double)]] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { helped.insert(String(line.dropFirst(7).split(separator: " ")[0])); continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                if parts.count == 2 { typed[String(parts[0])] = String(parts[1]) }
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            var fields: [Substring]
            if let brace = line.lastIndex(of: "}") {
                fields = [line[...brace]] + line[line.index(after: brace)...].split(separator: " ")
            } else {
                fields = line.split(separator: " ")
            }
            if fields.count != 2 {
                problems.append("not `series value` (a timestamp?): \(line)")
                if fields.count < 2 { continue }
            }
            let name = String(fields[0].split(separator: "{")[0])
            if !series.insert(String(fields[0])).inserted { problems.append("duplicate series \(fields[0])") }
            let family = typed.keys.first { name == $0 || name == $0 + "_bucket" || name == $0 + "_sum" || name == $0 + "_count" }
            guard let family else { problems.append("no TYPE for \(name)"); continue }
            if !helped.contains(family) { problems.append("no HELP for \(family)") }
            if typed[family] == "counter" && !family.hasSuffix("_total") { problems.append("counter \(family) without _total") }
            if name.hasSuffix("_bucket"), let range = fields[0].range(of: "le=\""), let value = Double(fields[1]) {
                let le = fields[0][range.upperBound...].prefix { $0 != "\"" }
                let bound = le == "+Inf" ? Double.infinity : Double(le) ?? .nan
                let key = String(fields[0].replacingOccurrences(of: "le=\"\(le)\"", with: ""))
                buckets[key, default: []].append((bound, value))
            }
        }
        for (key, list) in buckets {
            if list.last?.0 != .infinity { problems.append("\(key): buckets do not end in +Inf") }
            for i in 1..<max(1, list.count) where list[i].0 <= list[i - 1].0 || list[i].1 < list[i - 1].1 {
                problems.append("\(key): buckets not ascending and cumulative")
            }
        }
        return problems
    }
}

