//! Symbol names as strace prints them in `-k` stacks: Rust names (legacy `_ZN...17h<hash>E`
//! and v0 `_R...`) without their hash, C++ names with their parameters; C names unchanged.

use std::borrow::Cow;

/// The readable form of a symbol name, or the name itself.
pub fn demangle(name: &str) -> Cow<'_, str> {
    if !(name.starts_with("_Z") || name.starts_with("_R") || name.starts_with("__Z")) {
        return Cow::Borrowed(name);
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        // `{:#}`: without the trailing `::h0123...` hash, as strace's demangler prints it.
        return Cow::Owned(format!("{d:#}"));
    }
    match cpp_demangle::Symbol::new(name) {
        Ok(sym) => match sym.demangle(&cpp_demangle::DemangleOptions::default()) {
            Ok(s) => Cow::Owned(s),
            Err(_) => Cow::Borrowed(name),
        },
        Err(_) => Cow::Borrowed(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_cpp_and_c() {
        assert_eq!(
            demangle("_ZN8pgstrace5trace6attach5check17hf68230048284607bE"),
            "pgstrace::trace::attach::check"
        );
        assert_eq!(
            demangle(
                "_ZN60_$LT$std..io..stdio..StdoutRaw$u20$as$u20$std..io..Write$GT$9write_all17h0123456789abcdefE"
            ),
            "<std::io::stdio::StdoutRaw as std::io::Write>::write_all"
        );
        assert_eq!(demangle("_ZN3foo3barEi"), "foo::bar(int)");
        assert_eq!(demangle("ExecInitParallelPlan"), "ExecInitParallelPlan");
        assert_eq!(demangle("_Znot a symbol"), "_Znot a symbol");
    }
}
