//! The public API of a crate, one item per line, from rustdoc's JSON output;
//! and the foreign types it exposes.
//!
//! [`Listing::of`] walks the crate from its root module, through `pub use`
//! re-exports, and writes every public item at the first path it is reachable
//! by (the shortest), with its signature; an item reachable by another path
//! too gets one more line there. Types carry their public fields or variants,
//! inherent methods, trait impls (with their associated types) and auto-trait
//! impls; blanket impls (`impl<T> From<T> for T` and the like) are left out.
//! Lines are sorted by the item they belong to, so a diff of two listings
//! reads as an API diff.
//!
//! Every path a line names is classified: the crate's own, `std`, `core` and
//! `alloc` are fine, so are `serde`'s traits; anything else is a *foreign*
//! item in the public API ([`Listing::foreign`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use rustdoc_types::{
    Abi, AssocItemConstraint, AssocItemConstraintKind, Attribute, Crate, DynTrait, FunctionHeader,
    FunctionSignature, GenericArg, GenericArgs, GenericBound, GenericParamDef, GenericParamDefKind,
    Generics, Id, Impl, Item, ItemEnum, ItemKind, MacroKind, Path, PreciseCapturingArg, StructKind,
    Term, TraitBoundModifier, Type, VariantKind, Visibility, WherePredicate,
};

/// Crates whose items may appear anywhere in the public API.
pub const ALLOWED_CRATES: [&str; 3] = ["std", "core", "alloc"];

/// Crates whose *traits* (only) may appear in the public API.
pub const ALLOWED_TRAIT_CRATES: [&str; 2] = ["serde", "serde_core"];

/// Traits left out of the listing: compiler-internal ones that stable code
/// cannot name (`derive(PartialEq)` implements `StructuralPartialEq`; every
/// type gets `Freeze` and `UnsafeUnpin`), whose impls change with the
/// toolchain rather than with the API.
pub const UNLISTED_TRAITS: [&str; 3] = [
    "core::marker::StructuralPartialEq",
    "core::marker::Freeze",
    "core::marker::UnsafeUnpin",
];

/// Whether an item of crate `krate`, of kind `kind`, may appear in the
/// public API of another crate.
///
/// ```
/// use neatlogs_public_api::allowed;
/// use rustdoc_types::ItemKind;
/// assert!(allowed("core", ItemKind::Struct));
/// assert!(allowed("serde", ItemKind::Trait));
/// assert!(!allowed("serde", ItemKind::Struct));
/// assert!(!allowed("serde_json", ItemKind::Enum));
/// ```
pub fn allowed(krate: &str, kind: ItemKind) -> bool {
    ALLOWED_CRATES.contains(&krate)
        || (ALLOWED_TRAIT_CRATES.contains(&krate) && kind == ItemKind::Trait)
}

/// The public API of one crate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// One line per item, impl or member, in listing order.
    pub lines: Vec<String>,
    /// Each foreign item named by the listing (`uuid::Uuid`), with the
    /// listing lines that name it.
    pub foreign: BTreeMap<String, Vec<String>>,
}

impl Listing {
    /// The listing of `krate`, a crate's rustdoc JSON.
    pub fn of(krate: &Crate) -> Listing {
        let mut walker = Walker::new(krate);
        walker.find_paths();
        walker.render_all();
        walker.finish()
    }

    /// The listing as a file: a header of `#` comment lines, then one line
    /// per item.
    pub fn to_text(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// The lines of a listing file that are not comments or blank.
pub fn listing_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect()
}

/// Lines of `old` missing from `new` (`-`) and lines of `new` missing from
/// `old` (`+`), each in its own list's order.
///
/// ```
/// let (removed, added) = neatlogs_public_api::diff(&["a", "b"], &["b", "c"]);
/// assert_eq!((removed, added), (vec!["a"], vec!["c"]));
/// ```
pub fn diff<'a>(old: &[&'a str], new: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let old_set: HashSet<&str> = old.iter().copied().collect();
    let new_set: HashSet<&str> = new.iter().copied().collect();
    let removed = old
        .iter()
        .copied()
        .filter(|l| !new_set.contains(l))
        .collect();
    let added = new
        .iter()
        .copied()
        .filter(|l| !old_set.contains(l))
        .collect();
    (removed, added)
}

/// Where a line sorts: the item it belongs to, then its place among that
/// item's lines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    rank: u8,
    line: String,
}

const RANK_ITEM: u8 = 0;
const RANK_MEMBER: u8 = 1;
const RANK_METHOD: u8 = 2;
const RANK_TRAIT_IMPL: u8 = 3;
const RANK_AUTO_IMPL: u8 = 4;

struct Walker<'a> {
    krate: &'a Crate,
    /// Public path of each local item, the first (shortest) found.
    paths: HashMap<Id, String>,
    /// Every public path of each local item, in the order found.
    all_paths: Vec<(Id, String)>,
    /// Re-exports whose target is not in the JSON: (path, source).
    opaque_uses: Vec<(String, String)>,
    lines: BTreeSet<Key>,
    rendered_impls: HashSet<Id>,
    foreign: BTreeMap<String, BTreeSet<String>>,
    /// Foreign paths named while rendering the current line.
    pending_foreign: BTreeSet<String>,
}

impl<'a> Walker<'a> {
    fn new(krate: &'a Crate) -> Self {
        Walker {
            krate,
            paths: HashMap::new(),
            all_paths: Vec::new(),
            opaque_uses: Vec::new(),
            lines: BTreeSet::new(),
            rendered_impls: HashSet::new(),
            foreign: BTreeMap::new(),
            pending_foreign: BTreeSet::new(),
        }
    }

    fn item(&self, id: &Id) -> Option<&'a Item> {
        self.krate.index.get(id)
    }

    /// Breadth first from the root, so the first path found is the shortest.
    fn find_paths(&mut self) {
        let Some(root) = self.item(&self.krate.root) else {
            return;
        };
        let root_name = root.name.clone().unwrap_or_else(|| "crate".to_owned());
        self.paths.insert(root.id, root_name.clone());
        let mut queue = VecDeque::from([(root.id, root_name)]);
        let mut seen_modules = HashSet::from([root.id]);
        while let Some((module_id, module_path)) = queue.pop_front() {
            let Some(ItemEnum::Module(module)) = self.item(&module_id).map(|i| &i.inner) else {
                continue;
            };
            for child in &module.items {
                let Some(item) = self.item(child) else {
                    continue;
                };
                let mut reached = |id: Id, name: &str, walker: &mut Walker<'a>| {
                    let path = format!("{module_path}::{name}");
                    walker.all_paths.push((id, path.clone()));
                    walker.paths.entry(id).or_insert_with(|| path.clone());
                    if matches!(
                        walker.item(&id).map(|i| &i.inner),
                        Some(ItemEnum::Module(_))
                    ) && seen_modules.insert(id)
                    {
                        queue.push_back((id, path));
                    }
                };
                match &item.inner {
                    ItemEnum::Use(use_) if use_.is_glob => {
                        // `pub use module::*`: every public item of the target.
                        let target = use_.id.and_then(|id| self.item(&id));
                        match target.map(|t| &t.inner) {
                            Some(ItemEnum::Module(target_module)) => {
                                for grandchild in &target_module.items {
                                    if let Some(name) =
                                        self.item(grandchild).and_then(|g| g.name.clone())
                                    {
                                        reached(*grandchild, &name, self);
                                    }
                                }
                            }
                            _ => self
                                .opaque_uses
                                .push((format!("{module_path}::*"), use_.source.clone())),
                        }
                    }
                    ItemEnum::Use(use_) => match use_.id.filter(|id| self.item(id).is_some()) {
                        Some(id) => reached(id, &use_.name, self),
                        None => self
                            .opaque_uses
                            .push((format!("{module_path}::{}", use_.name), use_.source.clone())),
                    },
                    _ => {
                        if let Some(name) = &item.name {
                            reached(item.id, name, self);
                        }
                    }
                }
            }
        }
    }

    fn render_all(&mut self) {
        let all_paths = std::mem::take(&mut self.all_paths);
        for (id, path) in &all_paths {
            let Some(item) = self.item(id) else { continue };
            if self.paths.get(id) == Some(path) {
                self.render_item(item, path);
            } else {
                // Another path to an item listed in full elsewhere.
                let line = format!("{} {path}", item_word(item));
                self.push(path, RANK_ITEM, line);
            }
        }
        // Impls of the crate's traits not yet listed with a type: for
        // foreign types (`impl Trait for &str`) and blanket impls.
        for (id, path) in &all_paths {
            if self.paths.get(id) != Some(path) {
                continue;
            }
            if let Some(ItemEnum::Trait(trait_)) = self.item(id).map(|i| &i.inner) {
                for impl_id in &trait_.implementations {
                    self.render_impl(impl_id, path);
                }
            }
        }
        for (path, source) in std::mem::take(&mut self.opaque_uses) {
            let line = format!("pub use {path} = {source}");
            self.push(&path, RANK_ITEM, line);
        }
    }

    fn finish(self) -> Listing {
        Listing {
            lines: self.lines.into_iter().map(|k| k.line).collect(),
            foreign: self
                .foreign
                .into_iter()
                .map(|(path, lines)| (path, lines.into_iter().collect()))
                .collect(),
        }
    }

    /// Adds a line; the foreign paths named while rendering it are noted
    /// against it.
    fn push(&mut self, group: &str, rank: u8, line: String) {
        for path in std::mem::take(&mut self.pending_foreign) {
            self.foreign.entry(path).or_default().insert(line.clone());
        }
        self.lines.insert(Key {
            group: group.to_owned(),
            rank,
            line,
        });
    }

    fn render_item(&mut self, item: &'a Item, path: &str) {
        let attrs = attributes(item);
        match &item.inner {
            ItemEnum::Module(_) => self.push(path, RANK_ITEM, format!("pub mod {path}")),
            ItemEnum::Struct(s) => {
                let generics = self.generics(&s.generics);
                let where_ = self.where_clause(&s.generics);
                let line = match &s.kind {
                    StructKind::Unit => format!("{attrs}pub struct {path}{generics}{where_};"),
                    StructKind::Tuple(fields) => {
                        let fields = self.tuple_fields(fields, "pub ");
                        format!("{attrs}pub struct {path}{generics}({fields}){where_};")
                    }
                    StructKind::Plain { .. } => {
                        format!("{attrs}pub struct {path}{generics}{where_}")
                    }
                };
                self.push(path, RANK_ITEM, line);
                if let StructKind::Plain { fields, .. } = &s.kind {
                    self.named_fields(fields, path);
                }
                self.render_impls(&s.impls, path);
            }
            ItemEnum::Union(u) => {
                let generics = self.generics(&u.generics);
                let where_ = self.where_clause(&u.generics);
                self.push(
                    path,
                    RANK_ITEM,
                    format!("{attrs}pub union {path}{generics}{where_}"),
                );
                self.named_fields(&u.fields, path);
                self.render_impls(&u.impls, path);
            }
            ItemEnum::Enum(e) => {
                let generics = self.generics(&e.generics);
                let where_ = self.where_clause(&e.generics);
                self.push(
                    path,
                    RANK_ITEM,
                    format!("{attrs}pub enum {path}{generics}{where_}"),
                );
                for variant_id in &e.variants {
                    let Some(variant) = self.item(variant_id) else {
                        continue;
                    };
                    let Some(name) = &variant.name else { continue };
                    let ItemEnum::Variant(v) = &variant.inner else {
                        continue;
                    };
                    let variant_path = format!("{path}::{name}");
                    let line = match &v.kind {
                        VariantKind::Plain => match &v.discriminant {
                            Some(d) => format!("{variant_path} = {}", d.value),
                            None => variant_path.clone(),
                        },
                        VariantKind::Tuple(fields) => {
                            format!("{variant_path}({})", self.tuple_fields(fields, ""))
                        }
                        VariantKind::Struct {
                            fields,
                            has_stripped_fields,
                        } => {
                            let mut fields = self.variant_fields(fields);
                            if *has_stripped_fields {
                                fields.push("..".to_owned());
                            }
                            format!("{variant_path} {{ {} }}", fields.join(", "))
                        }
                    };
                    self.push(path, RANK_MEMBER, line);
                }
                self.render_impls(&e.impls, path);
            }
            ItemEnum::Function(f) => {
                let line = format!(
                    "{attrs}{}",
                    self.function(&item.visibility, path, &f.header, &f.generics, &f.sig)
                );
                self.push(path, RANK_ITEM, line);
            }
            ItemEnum::Trait(t) => {
                let generics = self.generics(&t.generics);
                let bounds = if t.bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.bounds(&t.bounds))
                };
                let where_ = self.where_clause(&t.generics);
                let unsafe_ = if t.is_unsafe { "unsafe " } else { "" };
                let auto = if t.is_auto { "auto " } else { "" };
                self.push(
                    path,
                    RANK_ITEM,
                    format!("{attrs}pub {unsafe_}{auto}trait {path}{generics}{bounds}{where_}"),
                );
                for member in &t.items {
                    if let Some(member) = self.item(member) {
                        self.render_assoc(member, path, RANK_MEMBER);
                    }
                }
            }
            ItemEnum::TraitAlias(t) => {
                let generics = self.generics(&t.generics);
                let bounds = self.bounds(&t.params);
                self.push(
                    path,
                    RANK_ITEM,
                    format!("pub trait {path}{generics} = {bounds}"),
                );
            }
            ItemEnum::TypeAlias(t) => {
                let generics = self.generics(&t.generics);
                let where_ = self.where_clause(&t.generics);
                let type_ = self.type_(&t.type_);
                self.push(
                    path,
                    RANK_ITEM,
                    format!("pub type {path}{generics}{where_} = {type_}"),
                );
            }
            ItemEnum::Constant { type_, const_ } => {
                let type_ = self.type_(type_);
                let value = if const_.is_literal {
                    format!(" = {}", const_.expr)
                } else if let Some(value) = &const_.value {
                    format!(" = {value}")
                } else {
                    String::new()
                };
                self.push(path, RANK_ITEM, format!("pub const {path}: {type_}{value}"));
            }
            ItemEnum::Static(s) => {
                let type_ = self.type_(&s.type_);
                let mut_ = if s.is_mutable { "mut " } else { "" };
                self.push(path, RANK_ITEM, format!("pub static {mut_}{path}: {type_}"));
            }
            ItemEnum::Macro(_) => self.push(path, RANK_ITEM, format!("pub macro {path}!")),
            ItemEnum::ProcMacro(m) => {
                let line = match m.kind {
                    MacroKind::Bang => format!("pub proc macro {path}!"),
                    MacroKind::Attr => format!("#[proc_macro_attribute] pub macro {path}"),
                    MacroKind::Derive => format!("#[proc_macro_derive] pub macro {path}"),
                };
                self.push(path, RANK_ITEM, line);
            }
            ItemEnum::ExternType => self.push(path, RANK_ITEM, format!("pub extern type {path}")),
            ItemEnum::Primitive(p) => {
                self.push(path, RANK_ITEM, format!("pub primitive {path}"));
                self.render_impls(&p.impls, path);
            }
            ItemEnum::ExternCrate { name, .. } => {
                self.push(path, RANK_ITEM, format!("pub extern crate {path} = {name}"))
            }
            // Reached only inside their owners.
            ItemEnum::Use(_)
            | ItemEnum::StructField(_)
            | ItemEnum::Variant(_)
            | ItemEnum::Impl(_)
            | ItemEnum::AssocConst { .. }
            | ItemEnum::AssocType { .. } => {}
        }
    }

    /// `pub T, _` for a tuple struct (`vis` = "pub "), `T, U` for a variant.
    fn tuple_fields(&mut self, fields: &[Option<Id>], vis: &str) -> String {
        let mut out = Vec::new();
        for field in fields {
            let field = field.and_then(|id| self.item(&id));
            match field {
                Some(Item {
                    inner: ItemEnum::StructField(type_),
                    visibility,
                    ..
                }) if is_public(visibility) => out.push(format!("{vis}{}", self.type_(type_))),
                _ => out.push("_".to_owned()),
            }
        }
        out.join(", ")
    }

    /// `name: T` for each field of a struct variant.
    fn variant_fields(&mut self, fields: &[Id]) -> Vec<String> {
        let mut out = Vec::new();
        for field in fields {
            let Some(field) = self.item(field) else {
                continue;
            };
            if let (Some(name), ItemEnum::StructField(type_)) = (&field.name, &field.inner) {
                out.push(format!("{name}: {}", self.type_(type_)));
            }
        }
        out
    }

    fn named_fields(&mut self, fields: &[Id], owner: &str) {
        for field in fields {
            let Some(field) = self.item(field) else {
                continue;
            };
            let (Some(name), ItemEnum::StructField(type_)) = (&field.name, &field.inner) else {
                continue;
            };
            if !is_public(&field.visibility) {
                continue;
            }
            let type_ = self.type_(type_);
            self.push(owner, RANK_MEMBER, format!("pub {owner}::{name}: {type_}"));
        }
    }

    fn render_impls(&mut self, impls: &[Id], owner: &str) {
        for impl_id in impls {
            self.render_impl(impl_id, owner);
        }
    }

    /// One impl: inherent ones list their public items, trait impls are one
    /// line with their associated types; blanket impls are left out.
    fn render_impl(&mut self, impl_id: &Id, owner: &str) {
        let Some(item) = self.item(impl_id) else {
            return;
        };
        let ItemEnum::Impl(impl_) = &item.inner else {
            return;
        };
        if impl_.blanket_impl.is_some() || !self.rendered_impls.insert(*impl_id) {
            return;
        }
        if let Some(trait_) = &impl_.trait_ {
            let name = self.krate.paths.get(&trait_.id).map(|s| s.path.join("::"));
            if name.is_some_and(|n| UNLISTED_TRAITS.contains(&n.as_str())) {
                return;
            }
        }
        let header = self.impl_header(impl_);
        match &impl_.trait_ {
            None => {
                self.push(owner, RANK_METHOD, header);
                for member in &impl_.items {
                    let Some(member) = self.item(member) else {
                        continue;
                    };
                    if is_public(&member.visibility) {
                        self.render_assoc(member, owner, RANK_METHOD);
                    }
                }
            }
            Some(_) => {
                let mut assoc = Vec::new();
                for member in &impl_.items {
                    let Some(member) = self.item(member) else {
                        continue;
                    };
                    let name = member.name.clone().unwrap_or_default();
                    match &member.inner {
                        ItemEnum::AssocType {
                            type_: Some(type_), ..
                        } => assoc.push(format!("type {name} = {}", self.type_(type_))),
                        ItemEnum::AssocConst {
                            type_,
                            value: Some(value),
                        } => assoc.push(format!("const {name}: {} = {value}", self.type_(type_))),
                        _ => {}
                    }
                }
                let line = if assoc.is_empty() {
                    header
                } else {
                    format!("{header} {{ {} }}", assoc.join("; "))
                };
                let rank = if impl_.is_synthetic {
                    RANK_AUTO_IMPL
                } else {
                    RANK_TRAIT_IMPL
                };
                self.push(owner, rank, line);
            }
        }
    }

    fn impl_header(&mut self, impl_: &Impl) -> String {
        let unsafe_ = if impl_.is_unsafe { "unsafe " } else { "" };
        let generics = self.generics(&impl_.generics);
        let where_ = self.where_clause(&impl_.generics);
        let for_ = self.type_(&impl_.for_);
        match &impl_.trait_ {
            None => format!("{unsafe_}impl{generics} {for_}{where_}"),
            Some(trait_) => {
                let not = if impl_.is_negative { "!" } else { "" };
                let trait_ = self.path(trait_);
                format!("{unsafe_}impl{generics} {not}{trait_} for {for_}{where_}")
            }
        }
    }

    /// An associated item of a trait or an inherent impl, as `owner::name`.
    fn render_assoc(&mut self, member: &'a Item, owner: &str, rank: u8) {
        let Some(name) = &member.name else { return };
        let path = format!("{owner}::{name}");
        let line = match &member.inner {
            ItemEnum::Function(f) => {
                let attrs = attributes(member);
                let sig = self.function(&member.visibility, &path, &f.header, &f.generics, &f.sig);
                let provided = if f.has_body && rank == RANK_MEMBER {
                    " { .. }"
                } else {
                    ""
                };
                format!("{attrs}{sig}{provided}")
            }
            ItemEnum::AssocConst { type_, value } => {
                let type_ = self.type_(type_);
                let value = value
                    .as_deref()
                    .filter(|v| *v != "_")
                    .map(|v| format!(" = {v}"))
                    .unwrap_or_default();
                format!(
                    "{}const {path}: {type_}{value}",
                    visibility(&member.visibility)
                )
            }
            ItemEnum::AssocType {
                generics,
                bounds,
                type_,
            } => {
                let params = self.generics(generics);
                let bounds = if bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.bounds(bounds))
                };
                let where_ = self.where_clause(generics);
                let default = match type_ {
                    Some(t) => format!(" = {}", self.type_(t)),
                    None => String::new(),
                };
                format!(
                    "{}type {path}{params}{bounds}{where_}{default}",
                    visibility(&member.visibility)
                )
            }
            _ => return,
        };
        self.push(owner, rank, line);
    }

    fn function(
        &mut self,
        vis: &Visibility,
        path: &str,
        header: &FunctionHeader,
        generics: &Generics,
        sig: &FunctionSignature,
    ) -> String {
        let mut out = visibility(vis).to_owned();
        if header.is_const {
            out.push_str("const ");
        }
        if header.is_async {
            out.push_str("async ");
        }
        if header.is_unsafe {
            out.push_str("unsafe ");
        }
        out.push_str(&abi(&header.abi));
        let _ = write!(out, "fn {path}{}", self.generics(generics));
        out.push_str(&self.signature(sig));
        out.push_str(&self.where_clause(generics));
        out
    }

    fn signature(&mut self, sig: &FunctionSignature) -> String {
        let mut inputs = Vec::new();
        for (name, type_) in &sig.inputs {
            inputs.push(self.input(name, type_));
        }
        if sig.is_c_variadic {
            inputs.push("...".to_owned());
        }
        let mut out = format!("({})", inputs.join(", "));
        if let Some(output) = &sig.output {
            let _ = write!(out, " -> {}", self.type_(output));
        }
        out
    }

    fn input(&mut self, name: &str, type_: &Type) -> String {
        if name == "self" {
            match type_ {
                Type::Generic(g) if g == "Self" => return "self".to_owned(),
                Type::BorrowedRef {
                    lifetime,
                    is_mutable,
                    type_: inner,
                } if matches!(inner.as_ref(), Type::Generic(g) if g == "Self") => {
                    let lifetime = lifetime
                        .as_ref()
                        .map(|l| format!("{l} "))
                        .unwrap_or_default();
                    let mut_ = if *is_mutable { "mut " } else { "" };
                    return format!("&{lifetime}{mut_}self");
                }
                _ => {}
            }
        }
        format!("{name}: {}", self.type_(type_))
    }

    fn generics(&mut self, generics: &Generics) -> String {
        let params: Vec<String> = generics
            .params
            .iter()
            .filter(|p| {
                !matches!(
                    p.kind,
                    GenericParamDefKind::Type {
                        is_synthetic: true,
                        ..
                    }
                )
            })
            .map(|p| self.param(p))
            .collect();
        if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        }
    }

    fn param(&mut self, param: &GenericParamDef) -> String {
        match &param.kind {
            GenericParamDefKind::Lifetime { outlives } => {
                if outlives.is_empty() {
                    param.name.clone()
                } else {
                    format!("{}: {}", param.name, outlives.join(" + "))
                }
            }
            GenericParamDefKind::Type {
                bounds, default, ..
            } => {
                let mut out = param.name.clone();
                if !bounds.is_empty() {
                    let _ = write!(out, ": {}", self.bounds(bounds));
                }
                if let Some(default) = default {
                    let _ = write!(out, " = {}", self.type_(default));
                }
                out
            }
            GenericParamDefKind::Const { type_, default } => {
                let mut out = format!("const {}: {}", param.name, self.type_(type_));
                if let Some(default) = default {
                    let _ = write!(out, " = {default}");
                }
                out
            }
        }
    }

    fn where_clause(&mut self, generics: &Generics) -> String {
        let predicates: Vec<String> = generics
            .where_predicates
            .iter()
            .map(|p| self.predicate(p))
            .collect();
        if predicates.is_empty() {
            String::new()
        } else {
            format!(" where {}", predicates.join(", "))
        }
    }

    fn predicate(&mut self, predicate: &WherePredicate) -> String {
        match predicate {
            WherePredicate::BoundPredicate {
                type_,
                bounds,
                generic_params,
            } => {
                let hrtb = self.for_lifetimes(generic_params);
                format!("{hrtb}{}: {}", self.type_(type_), self.bounds(bounds))
            }
            WherePredicate::LifetimePredicate { lifetime, outlives } => {
                format!("{lifetime}: {}", outlives.join(" + "))
            }
            WherePredicate::EqPredicate { lhs, rhs } => {
                format!("{} = {}", self.type_(lhs), self.term(rhs))
            }
        }
    }

    fn for_lifetimes(&mut self, params: &[GenericParamDef]) -> String {
        if params.is_empty() {
            return String::new();
        }
        let params: Vec<String> = params.iter().map(|p| self.param(p)).collect();
        format!("for<{}> ", params.join(", "))
    }

    fn bounds(&mut self, bounds: &[GenericBound]) -> String {
        bounds
            .iter()
            .map(|b| self.bound(b))
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn bound(&mut self, bound: &GenericBound) -> String {
        match bound {
            GenericBound::TraitBound {
                trait_,
                generic_params,
                modifier,
            } => {
                let hrtb = self.for_lifetimes(generic_params);
                let modifier = match modifier {
                    TraitBoundModifier::None => "",
                    TraitBoundModifier::Maybe => "?",
                    TraitBoundModifier::MaybeConst => "~const ",
                };
                format!("{hrtb}{modifier}{}", self.path(trait_))
            }
            GenericBound::Outlives(lifetime) => lifetime.clone(),
            GenericBound::Use(args) => {
                let args: Vec<&str> = args
                    .iter()
                    .map(|a| match a {
                        PreciseCapturingArg::Lifetime(l) | PreciseCapturingArg::Param(l) => {
                            l.as_str()
                        }
                    })
                    .collect();
                format!("use<{}>", args.join(", "))
            }
        }
    }

    fn term(&mut self, term: &Term) -> String {
        match term {
            Term::Type(t) => self.type_(t),
            Term::Constant(c) => c.expr.clone(),
        }
    }

    fn type_(&mut self, type_: &Type) -> String {
        match type_ {
            Type::ResolvedPath(path) => self.path(path),
            Type::DynTrait(dyn_) => format!("dyn {}", self.dyn_trait(dyn_)),
            Type::Generic(name) | Type::Primitive(name) => name.clone(),
            Type::FunctionPointer(f) => {
                let hrtb = self.for_lifetimes(&f.generic_params);
                let unsafe_ = if f.header.is_unsafe { "unsafe " } else { "" };
                let abi = abi(&f.header.abi);
                format!("{hrtb}{unsafe_}{abi}fn{}", self.signature(&f.sig))
            }
            Type::Tuple(types) => {
                let types: Vec<String> = types.iter().map(|t| self.type_(t)).collect();
                if types.len() == 1 {
                    format!("({},)", types[0])
                } else {
                    format!("({})", types.join(", "))
                }
            }
            Type::Slice(t) => format!("[{}]", self.type_(t)),
            Type::Array { type_, len } => format!("[{}; {len}]", self.type_(type_)),
            Type::Pat { type_, .. } => self.type_(type_),
            Type::ImplTrait(bounds) => format!("impl {}", self.bounds(bounds)),
            Type::Infer => "_".to_owned(),
            Type::RawPointer { is_mutable, type_ } => {
                let kind = if *is_mutable { "mut" } else { "const" };
                format!("*{kind} {}", self.type_(type_))
            }
            Type::BorrowedRef {
                lifetime,
                is_mutable,
                type_,
            } => {
                let lifetime = lifetime
                    .as_ref()
                    .map(|l| format!("{l} "))
                    .unwrap_or_default();
                let mut_ = if *is_mutable { "mut " } else { "" };
                format!("&{lifetime}{mut_}{}", self.type_(type_))
            }
            Type::QualifiedPath {
                name,
                args,
                self_type,
                trait_,
            } => {
                let self_type = self.type_(self_type);
                let args = args
                    .as_deref()
                    .map(|a| self.generic_args(a))
                    .unwrap_or_default();
                match trait_ {
                    Some(trait_) => {
                        let trait_ = self.path(trait_);
                        format!("<{self_type} as {trait_}>::{name}{args}")
                    }
                    None => format!("{self_type}::{name}{args}"),
                }
            }
        }
    }

    fn dyn_trait(&mut self, dyn_: &DynTrait) -> String {
        let mut parts: Vec<String> = dyn_
            .traits
            .iter()
            .map(|poly| {
                let hrtb = self.for_lifetimes(&poly.generic_params);
                format!("{hrtb}{}", self.path(&poly.trait_))
            })
            .collect();
        if let Some(lifetime) = &dyn_.lifetime {
            parts.push(lifetime.clone());
        }
        parts.join(" + ")
    }

    /// A path, named by its public path (the crate's own items) or its
    /// defining path (other crates' items); foreign ones are noted.
    fn path(&mut self, path: &Path) -> String {
        let name = match self.paths.get(&path.id) {
            Some(public) => public.clone(),
            None => match self.krate.paths.get(&path.id) {
                Some(summary) => {
                    let full = summary.path.join("::");
                    if summary.crate_id != 0 {
                        let krate = self
                            .krate
                            .external_crates
                            .get(&summary.crate_id)
                            .map(|c| c.name.as_str())
                            .or_else(|| summary.path.first().map(String::as_str))
                            .unwrap_or("?");
                        if !allowed(krate, summary.kind) {
                            self.pending_foreign.insert(full.clone());
                        }
                    }
                    full
                }
                // Not in the JSON's path table (a crate-private item named
                // through a public one): as written.
                None => path.path.clone(),
            },
        };
        let args = path
            .args
            .as_deref()
            .map(|a| self.generic_args(a))
            .unwrap_or_default();
        format!("{name}{args}")
    }

    fn generic_args(&mut self, args: &GenericArgs) -> String {
        match args {
            GenericArgs::AngleBracketed { args, constraints } => {
                let mut parts: Vec<String> = args.iter().map(|a| self.generic_arg(a)).collect();
                parts.extend(constraints.iter().map(|c| self.constraint(c)));
                if parts.is_empty() {
                    String::new()
                } else {
                    format!("<{}>", parts.join(", "))
                }
            }
            GenericArgs::Parenthesized { inputs, output } => {
                let inputs: Vec<String> = inputs.iter().map(|t| self.type_(t)).collect();
                let output = output
                    .as_ref()
                    .map(|t| format!(" -> {}", self.type_(t)))
                    .unwrap_or_default();
                format!("({}){output}", inputs.join(", "))
            }
            GenericArgs::ReturnTypeNotation => "(..)".to_owned(),
        }
    }

    fn generic_arg(&mut self, arg: &GenericArg) -> String {
        match arg {
            GenericArg::Lifetime(l) => l.clone(),
            GenericArg::Type(t) => self.type_(t),
            GenericArg::Const(c) => c.expr.clone(),
            GenericArg::Infer => "_".to_owned(),
        }
    }

    fn constraint(&mut self, constraint: &AssocItemConstraint) -> String {
        let args = constraint
            .args
            .as_deref()
            .map(|a| self.generic_args(a))
            .unwrap_or_default();
        match &constraint.binding {
            AssocItemConstraintKind::Equality(term) => {
                format!("{}{args} = {}", constraint.name, self.term(term))
            }
            AssocItemConstraintKind::Constraint(bounds) => {
                format!("{}{args}: {}", constraint.name, self.bounds(bounds))
            }
        }
    }
}

fn is_public(visibility: &Visibility) -> bool {
    matches!(visibility, Visibility::Public | Visibility::Default)
}

/// `pub ` for public items and for the items of public traits (whose
/// visibility is the trait's: rustdoc calls it `Default`).
fn visibility(visibility: &Visibility) -> &'static str {
    if is_public(visibility) {
        "pub "
    } else {
        ""
    }
}

fn abi(abi: &Abi) -> String {
    match abi {
        Abi::Rust => String::new(),
        Abi::C { .. } => "extern \"C\" ".to_owned(),
        Abi::System { .. } => "extern \"system\" ".to_owned(),
        other => format!("extern \"{other:?}\" "),
    }
}

/// The attributes that are part of an item's API.
fn attributes(item: &Item) -> String {
    let mut out = String::new();
    for attr in &item.attrs {
        if let Attribute::NonExhaustive = attr {
            out.push_str("#[non_exhaustive] ");
        }
    }
    out
}

/// The word before a path in a line naming an item: `pub struct`, `pub fn`.
fn item_word(item: &Item) -> &'static str {
    match &item.inner {
        ItemEnum::Module(_) => "pub mod",
        ItemEnum::Struct(_) => "pub struct",
        ItemEnum::Union(_) => "pub union",
        ItemEnum::Enum(_) => "pub enum",
        ItemEnum::Function(_) => "pub fn",
        ItemEnum::Trait(_) | ItemEnum::TraitAlias(_) => "pub trait",
        ItemEnum::TypeAlias(_) => "pub type",
        ItemEnum::Constant { .. } => "pub const",
        ItemEnum::Static(_) => "pub static",
        ItemEnum::Macro(_) | ItemEnum::ProcMacro(_) => "pub macro",
        _ => "pub use",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_std_core_alloc_and_serde_traits_are_allowed() {
        for krate in ["std", "core", "alloc"] {
            assert!(allowed(krate, ItemKind::Struct), "{krate}");
            assert!(allowed(krate, ItemKind::Trait), "{krate}");
        }
        assert!(allowed("serde", ItemKind::Trait));
        assert!(allowed("serde_core", ItemKind::Trait));
        assert!(!allowed("serde", ItemKind::Struct));
        for krate in [
            "serde_json",
            "uuid",
            "opentelemetry_proto",
            "neatlogs_macros",
        ] {
            assert!(!allowed(krate, ItemKind::Struct), "{krate}");
            assert!(!allowed(krate, ItemKind::Trait), "{krate}");
        }
    }

    #[test]
    fn listing_text_round_trips_through_listing_lines() {
        let listing = Listing {
            lines: vec!["pub fn a::f()".into(), "pub mod a".into()],
            foreign: BTreeMap::new(),
        };
        let text = listing.to_text("generated\nby a test");
        assert!(text.starts_with("# generated\n# by a test\n"));
        assert_eq!(listing_lines(&text), ["pub fn a::f()", "pub mod a"]);
    }

    #[test]
    fn diff_keeps_each_side_in_order() {
        let (removed, added) = diff(&["x", "a", "b"], &["b", "c", "a", "d"]);
        assert_eq!(removed, ["x"]);
        assert_eq!(added, ["c", "d"]);
    }
}
