import Foundation
import Testing
import Binance

@Suite struct BinanceCredentialsTests {
    static let secret = "s3cr3t-VALUE-that-must-never-leak-0123456789"

    /// A private temporary directory, removed afterwards.
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tj-creds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    func write(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func loadsFromEnvironmentVariables() throws {
        let credentials = try BinanceCredentials.load(environment: [
            "TRADEJOB_BINANCE_API_KEY": "key-123456789", "TRADEJOB_BINANCE_API_SECRET": Self.secret,
        ])
        #expect(credentials.apiKey == "key-123456789")
        #expect(credentials.signature(of: "a=1") == BinanceSigner.signature(of: "a=1", secret: Self.secret))
    }

    @Test func loadsFromPrivateFilesAndTrimsTheTrailingNewline() throws {
        try withDirectory { directory in
            try write("key-from-file\n", to: directory + "/key", mode: 0o644)
            try write(Self.secret + "\n", to: directory + "/secret", mode: 0o600)
            let credentials = try BinanceCredentials.load(environment: [
                "TRADEJOB_BINANCE_API_KEY_FILE": directory + "/key", "TRADEJOB_BINANCE_API_SECRET_FILE": directory + "/secret",
            ])
            #expect(credentials.apiKey == "key-from-file")
            #expect(credentials.signature(of: "x") == BinanceSigner.signature(of: "x", secret: Self.secret))
        }
    }

    @Test func refusesASecretFileReadableByOthers() throws {
        try withDirectory { directory in
            let path = directory + "/secret"
            try write(Self.secret + "\n", to: path, mode: 0o644)
            var caught: (any Error)?
            do {
                _ = try BinanceCredentials.load(environment: [
                    "TRADEJOB_BINANCE_API_KEY": "key", "TRADEJOB_BINANCE_API_SECRET_FILE": path,
                ])
            } catch {
                caught = error
            }
            let error = try #require(caught as? BinanceCredentialsError)
            #expect(error == .tooOpen(path: path, mode: "0644"))
            let message = String(describing: error)
            #expect(message.contains(path))
            #expect(message.contains("0644"))
            #expect(!message.contains(Self.secret))

            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
            #expect(throws: BinanceCredentialsError.tooOpen(path: path, mode: "0640")) {
                try BinanceCredentials.load(environment: ["TRADEJOB_BINANCE_API_KEY": "key", "TRADEJOB_BINANCE_API_SECRET_FILE": path])
            }
        }
    }

    @Test func missingOrAmbiguousSettingsAreExplained() throws {
        #expect(throws: BinanceCredentialsError.missing(variable: "TRADEJOB_BINANCE_API_KEY")) {
            try BinanceCredentials.load(environment: ["TRADEJOB_BINANCE_API_SECRET": Self.secret])
        }
        #expect(throws: BinanceCredentialsError.ambiguous(variable: "TRADEJOB_BINANCE_API_SECRET")) {
            try BinanceCredentials.load(environment: ["TRADEJOB_BINANCE_API_KEY": "k", "TRADEJOB_BINANCE_API_SECRET": Self.secret,
                                                      "TRADEJOB_BINANCE_API_SECRET_FILE": "/nonexistent"])
        }
        #expect(throws: BinanceCredentialsError.self) {
            try BinanceCredentials.load(environment: ["TRADEJOB_BINANCE_API_KEY": "k", "TRADEJOB_BINANCE_API_SECRET_FILE": "/nonexistent/secret"])
        }
        #expect(!BinanceCredentials.isConfigured(environment: [:]))
        #expect(BinanceCredentials.isConfigured(environment: ["TRADEJOB_BINANCE_API_KEY_FILE": "/x"]))
    }

    @Test func theSecretNeverAppearsInDescriptions() {
        let credentials = BinanceCredentials(apiKey: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", secret: Self.secret)
        var dumped = ""
        dump(credentials, to: &dumped)
        let texts = [String(describing: credentials), String(reflecting: credentials), "\(credentials)", dumped,
                     String(describing: Mirror(reflecting: credentials).children.map { "\($0.label ?? ""): \($0.value)" })]
        for text in texts {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(credentials.apiKey))
        }
        #expect(String(describing: credentials).contains("<redacted>"))
    }
}
