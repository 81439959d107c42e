import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The temporary files a killed process left behind: `AtomicFile` writes `.<name>.tmp-<pid>` beside its target and
/// renames it into place, so a process killed in between leaves one. Under the run lock, files of processes that no
/// longer exist are removed.
public enum StaleTemporaryFiles {
    /// Removes `.*.tmp-<pid>` files of dead processes in `directory` and its subdirectories one level down; returns
    /// the paths removed.
    @discardableResult
    public static func remove(in directory: String) -> [String] {
        var removed: [String] = []
        let manager = FileManager.default
        var folders = [directory]
        for entry in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
            var isFolder: ObjCBool = false
            if manager.fileExists(atPath: directory + "/" + entry, isDirectory: &isFolder), isFolder.boolValue { folders.append(directory + "/" + entry) }
        }
        for folder in folders {
            for name in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] {
                guard let pid = ownerPID(of: name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                if unlink(folder + "/" + name) == 0 { removed.append(folder + "/" + name) }
            }
        }
        return removed
    }

    /// The pid in a name `.<target>.tmp-<pid>`, or nil for any other name.
    static func ownerPID(of name: String) -> Int32? {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let digits = name[range.upperBound...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let pid = Int32(digits), pid > 0 else { return nil }
        return pid
    }
}
