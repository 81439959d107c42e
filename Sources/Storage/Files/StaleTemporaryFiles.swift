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
        var folders = [directory]
        for entry in names(in: directory) {
            // `stat` follows a symbolic link, as `FileManager.fileExists(atPath:isDirectory:)` does.
            var st = stat()
            if stat(directory + "/" + entry, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { folders.append(directory + "/" + entry) }
        }
        for folder in folders {
            for name in names(in: folder) {
                guard let pid = ownerPID(of: name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                if unlink(folder + "/" + name) == 0 { removed.append(folder + "/" + name) }
            }
        }
        return removed
    }

    /// The names in a directory but `.` and `..` (none when it cannot be read), read with `readdir`: the same list as
    /// `FileManager.contentsOfDirectory` without Foundation's bridging (a cost at every cycle's start).
    static func names(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The pid in a name `.<target>.tmp-<pid>`, or nil for any other name.
    static func ownerPID(of name: String) -> Int32? {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let digits = name[range.upperBound...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let pid = Int32(digits), pid > 0 else { return nil }
        return pid
    }
}
