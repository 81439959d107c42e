import Foundation

/// Renders configurations as JSON text: the complete template (every key, its default and a description)
/// and the effective configuration with secrets redacted.
public enum ConfigDocument {
    /// A complete template: every key with its default, each preceded by its description as a `//` comment.
    /// The loader accepts these `//` line comments, so a saved template loads back as it is; `config template --json`
    /// gives plain JSON without them, for other JSON tools.
    public static func template(withComments: Bool) -> String {
        let values = Dictionary(ConfigKeys.all.map { ($0.path, $0.defaultValue) }, uniquingKeysWith: { a, _ in a })
        return render(values, withComments: withComments, redact: false)
    }

    /// The effective configuration as JSON, secret values replaced by `"<redacted>"`.
    public static func effective(_ config: ResolvedConfig) -> String {
        render(config.values, withComments: false, redact: true)
    }

    /// A configuration file holding only the keys in `paths` (schema order) with their values from `values`: what
    /// `tradejob optimize` writes as the best parameters. Secret keys are never written.
    public static func partial(_ values: [String: ConfigValue], paths: Set<String>) -> String {
        render(values, withComments: false, redact: false, only: paths)
    }

    static func render(_ values: [String: ConfigValue], withComments: Bool, redact: Bool, only: Set<String>? = nil) -> String {
        // Build a tree in schema order.
        final class Node {
            var children: [(String, Node)] = []
            var key: ConfigKey?
            func child(_ name: String) -> Node {
                if let existing = children.first(where: { $0.0 == name }) { return existing.1 }
                let node = Node()
                children.append((name, node))
                return node
            }
        }
        let root = Node()
        for key in ConfigKeys.all where only.map({ $0.contains(key.path) && !key.secret }) ?? true {
            var node = root
            for part in key.path.split(separator: ".") { node = node.child(String(part)) }
            node.key = key
        }
        var out = ""
        func emit(_ node: Node, indent: String) {
            for (index, (name, child)) in node.children.enumerated() {
                let comma = index == node.children.count - 1 ? "" : ","
                if let key = child.key {
                    if withComments { out += "\(indent)// \(key.doc) (default \(key.defaultValue.json))\n" }
                    var text = (values[key.path] ?? key.defaultValue).json
                    if redact && key.secret, case let .string(s)? = values[key.path], !s.isEmpty { text = "\"<redacted>\"" }
                    out += "\(indent)\(ConfigValue.quote(name)): \(text)\(comma)\n"
                } else {
                    out += "\(indent)\(ConfigValue.quote(name)): {\n"
                    emit(child, indent: indent + "  ")
                    out += "\(indent)}\(comma)\n"
                }
            }
        }
        out += "{\n"
        emit(root, indent: "  ")
        out += "}\n"
        return out
    }
}
