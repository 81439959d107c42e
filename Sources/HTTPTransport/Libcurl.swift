#if canImport(Glibc)
import Glibc
#endif

/// libcurl, the library under FoundationNetworking's URLSession on Linux, loaded when the first request is sent.
///
/// Loading libcurl pulls in about thirty shared libraries (TLS, HTTP/2, IDN, LDAP, Kerberos…), which costs more than
/// everything else a `run --if-due` that is not due does. The release binary is therefore linked without a load-time
/// dependency on libcurl (`make release` removes the `DT_NEEDED` entry; see README "Start-up"), and this loads it,
/// with its symbols global, before the first URLSession is made; FoundationNetworking's calls into it bind lazily, at
/// their first use. In a build that still names libcurl as a dependency (debug builds, `swift test`) the library is
/// already loaded and this only takes another reference to it.
public enum Libcurl {
    /// The shared object's name (the soname of libcurl 4, which every curl 7.x/8.x release keeps).
    public static let soname = "libcurl.so.4"

    /// Nil once libcurl is loaded; otherwise why it could not be (the request then fails as "cannot connect", with
    /// the fix in the message).
    public static let loadError: String? = {
        #if canImport(Glibc)
        if dlopen(soname, RTLD_NOW | RTLD_GLOBAL) != nil { return nil }
        let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
        return "libcurl could not be loaded (\(reason)); install it: apt-get install libcurl4"
        #else
        return nil
        #endif
    }()
}
