import Foundation

/// Locates test inputs: the committed fixtures beside these tests and the `shared` folder
/// beside the checkout (`TRADEJOB_SHARED_DIR` overrides it).
enum TestData {
    /// `Tests/TechnicalAnalysisTests/Fixtures`, with symbolic links resolved.
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// `../shared` next to the repository, or nil when it is absent (tests then skip with a message).
    static var shared: URL? {
        if let dir = ProcessInfo.processInfo.environment["TRADEJOB_SHARED_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = repo.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
    }
}
