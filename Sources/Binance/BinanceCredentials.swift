import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why Binance credentials could not be loaded. Messages name variables, files and modes, never content.
public enum BinanceCredentialsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither the variable nor its `_FILE` form is set.
    case missing(variable: String)
    /// Both the variable and its `_FILE` form are set: which one is meant is unclear.
    case ambiguous(variable: String)
    /// The named file cannot be read.
    case unreadable(path: String, reason: String)
    /// The secret file is readable by its group or by others.
    case tooOpen(path: String, mode: String)
    /// The value (from a variable or a file) is empty.
    case empty(source: String)
    /// The value contains characters that cannot be sent in an HTTP header.
    case invalidCharacters(source: String)

    public var description: String {
        switch self {
        case let .missing(variable):
            return "Binance credentials: set \(variable) or \(variable)_FILE (a file holding it)"
        case let .ambiguous(variable):
            return "Binance credentials: both \(variable) and \(variable)_FILE are set; set only one"
        case let .unreadable(path, reason):
            return "Binance credentials: cannot read \(path): \(reason)"
        case let .tooOpen(path, mode):
            return "Binance credentials: the secret file \(path) has mode \(mode) and is readable by its group or others; "
                + "refusing to use it (run: chmod 600 \(path))"
        case let .empty(source):
            return "Binance credentials: \(source) is empty"
        case let .invalidCharacters(source):
            return "Binance credentials: \(source) contains whitespace or control characters"
        }
    }
}

/// A Binance API key and its secret. The secret never leaves this type except into the HMAC: its
/// description, debug description and mirror are redacted, so it cannot reach a log, an error or a row.
public struct BinanceCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Sent in the `X-MBX-APIKEY` header.
    public let apiKey: String
    private let secret: String

    public static let apiKeyVariable = "TRADEJOB_BINANCE_API_KEY"
    public static let apiSecretVariable = "TRADEJOB_BINANCE_API_SECRET"

    public init(apiKey: String, secret: String) {
        self.apiKey = apiKey
        self.secret = secret
    }

    /// Loads the key from `TRADEJOB_BINANCE_API_KEY` or the file named by `TRADEJOB_BINANCE_API_KEY_FILE`, and the secret
    /// from `TRADEJOB_BINANCE_API_SECRET` or the file named by `TRADEJOB_BINANCE_API_SECRET_FILE`. A trailing newline of a file
    /// is dropped. A secret file readable by its group or by others (`mode & 0o077 != 0`) is refused.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BinanceCredentials {
        let key = try value(apiKeyVariable, environment: environment, isSecret: false)
        let secret = try value(apiSecretVariable, environment: environment, isSecret: true)
        return BinanceCredentials(apiKey: key, secret: secret)
    }

    /// Whether any of the four variables is set (to tell "not configured" from "misconfigured").
    public static func isConfigured(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        [apiKeyVariable, apiKeyVariable + "_FILE", apiSecretVariable, apiSecretVariable + "_FILE"].contains {
            !(environment[$0] ?? "").isEmpty
        }
    }

    /// The lowercase hex HMAC-SHA256 of `payload` under the secret (Binance's `signature`).
    public func signature(of payload: String) -> String {
        BinanceSigner.signature(of: payload, secret: secret)
    }

    /// Whether `text` contains the secret (for tests and defensive checks; never reveals it).
    public func appears(in text: String) -> Bool { !secret.isEmpty && text.contains(secret) }

    public var description: String { "BinanceCredentials(apiKey: \(Self.mask(apiKey)), secret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["apiKey": Self.mask(apiKey), "secret": "<redacted>"], displayStyle: .struct)
    }

    /// The first four characters of a key and its length, enough to tell keys apart in a log.
    static func mask(_ key: String) -> String {
        key.count <= 8 ? "<\(key.count) characters>" : "\(key.prefix(4))… (\(key.count) characters)"
    }

    private static func value(_ variable: String, environment: [String: String], isSecret: Bool) throws -> String {
        let direct = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        let fileVariable = variable + "_FILE"
        let path = environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let text: String
        let source: String
        switch (direct, path) {
        case (nil, nil): throw BinanceCredentialsError.missing(variable: variable)
        case (.some, .some): throw BinanceCredentialsError.ambiguous(variable: variable)
        case let (value?, nil):
            text = value
            source = variable
        case let (nil, path?):
            if isSecret { try checkPrivate(path) }
            text = try read(path)
            source = "the file \(path) (\(fileVariable))"
        }
        let trimmed = String(text.reversed().drop { $0 == "\n" || $0 == "\r" }.reversed())
        guard !trimmed.isEmpty else { throw BinanceCredentialsError.empty(source: source) }
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw BinanceCredentialsError.invalidCharacters(source: source)
        }
        return trimmed
    }

    /// Refuses a file whose permission bits let its group or others read, write or execute it (symlinks are followed).
    static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BinanceCredentialsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(info.st_mode) & 0o7777
        if mode & 0o077 != 0 {
            throw BinanceCredentialsError.tooOpen(path: path, mode: "0" + String(mode, radix: 8))
        }
    }

    private static func read(_ path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BinanceCredentialsError.unreadable(path: path, reason: "no such file or no permission")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BinanceCredentialsError.unreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}
