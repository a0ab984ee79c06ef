//! Code generation for `#[neatlogs::span]`: the decorated item, and the
//! function it becomes.
//!
//! Conventions of the generated code:
//! - every local is named `__neatlogs_*` **and** has a `Span::mixed_site()`
//!   span, so user code (the body, the identity expressions) can neither see
//!   nor be shadowed by it, whatever the user's own variables are called;
//! - every path is absolute, through the hidden `::neatlogs::__private` (or
//!   `crate = path`), so shadowed prelude names (`Result`, `Option`, `Some`)
//!   and `#![no_implicit_prelude]` do not change what it means.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    braced, AttrStyle, Attribute, Block, Expr, ExprAsync, ExprCall, GenericArgument, Item, ItemFn,
    LitStr, PathArguments, ReturnType, Signature, Stmt, Token, Type, TypeParamBound, Visibility,
};

use crate::attr::{SpanArgs, DEFAULT_KIND};

/// Expand `#[neatlogs::span(args)] item`.
pub(crate) fn span(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match syn::parse2::<MaybeItemFn>(item.clone()) {
        Ok(func) => func,
        Err(e) => return error_and_item(not_a_function(&item).unwrap_or(e), item),
    };
    if let Some(constness) = &func.sig.constness {
        let e = syn::Error::new(
            constness.span,
            "`#[neatlogs::span]` cannot go on a `const fn`: a span reads the clock and \
             thread-local state at run time, which const evaluation cannot do; remove `const`, \
             or trace the function that calls it",
        );
        return error_and_item(e, item);
    }
    match syn::parse2::<SpanArgs>(args) {
        Ok(args) => gen_function(func, &args),
        Err(e) => error_and_item(e, item),
    }
}

/// The error, and the item unchanged: uses of the item elsewhere still
/// resolve, so the user sees this one error and not a cascade of others.
fn error_and_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(item);
    out
}

/// A function as written. The body is kept as raw tokens when it does not
/// parse, so that the function still expands and rustc reports the real
/// error at the real place (instead of this macro failing on the whole item).
pub(crate) struct MaybeItemFn {
    outer_attrs: Vec<Attribute>,
    inner_attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Body,
}

/// A function body: its statements and where its braces are.
///
/// The statements go straight into the blocks the macro writes (no nested
/// `{ .. }`, which rustc would flag as unnecessary braces on a one-expression
/// body), and those blocks get the user's brace span, so that errors about
/// the body as a whole (a missing tail expression) point at the user's code.
struct Body {
    braces: Span,
    stmts: TokenStream,
    /// The parsed block, when it parses.
    parsed: Option<Block>,
}

impl Body {
    fn from_block(block: &Block) -> Body {
        let stmts = &block.stmts;
        Body {
            braces: block.brace_token.span.join(),
            stmts: quote!(#(#stmts)*),
            parsed: Some(block.clone()),
        }
    }

    /// `{ #prefix <the body's statements> }`, with the body's braces.
    fn wrap(&self, prefix: TokenStream) -> Group {
        let mut tokens = prefix;
        tokens.extend(self.stmts.clone());
        braced_at(self.braces, tokens)
    }
}

fn braced_at(span: Span, tokens: TokenStream) -> Group {
    let mut group = Group::new(Delimiter::Brace, tokens);
    group.set_span(span);
    group
}

impl Parse for MaybeItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let fork = input.fork();
        if let Ok(func) = fork.parse::<ItemFn>() {
            input.advance_to(&fork);
            // syn moves the body's inner attributes (`#![allow(..)]`) into
            // `attrs`; they go back at the top of the new body.
            let (inner_attrs, outer_attrs) = func
                .attrs
                .into_iter()
                .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
            return Ok(MaybeItemFn {
                outer_attrs,
                inner_attrs,
                vis: func.vis,
                sig: func.sig,
                body: Body::from_block(&func.block),
            });
        }
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        if input.peek(Token![;]) {
            return Err(syn::Error::new(
                input.span(),
                "`#[neatlogs::span]` needs a function body: put it on the function's \
                 implementation, not on its declaration",
            ));
        }
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let stmts: TokenStream = content.parse()?;
        Ok(MaybeItemFn {
            outer_attrs,
            inner_attrs,
            vis,
            sig,
            body: Body {
                braces: brace.span.join(),
                stmts,
                parsed: None,
            },
        })
    }
}

/// For an item that is not a function, an error at its keyword that says so.
fn not_a_function(item: &TokenStream) -> Option<syn::Error> {
    let item: Item = syn::parse2(item.clone()).ok()?;
    let (span, what) = match &item {
        Item::Struct(i) => (i.struct_token.span, "a struct"),
        Item::Enum(i) => (i.enum_token.span, "an enum"),
        Item::Union(i) => (i.union_token.span, "a union"),
        Item::Const(i) => (i.const_token.span, "a `const` item"),
        Item::Static(i) => (i.static_token.span, "a `static` item"),
        Item::Impl(i) => (i.impl_token.span, "an `impl` block"),
        Item::Trait(i) => (i.trait_token.span, "a trait"),
        Item::Mod(i) => (i.mod_token.span, "a module"),
        Item::Type(i) => (i.type_token.span, "a type alias"),
        Item::Use(i) => (i.use_token.span, "a `use` item"),
        Item::Macro(i) => (i.mac.path.span(), "a macro invocation"),
        _ => return None,
    };
    let hint = match item {
        Item::Impl(_) | Item::Trait(_) => "; put it on each method whose calls you want to trace",
        _ => "; put it on the function whose calls you want to trace",
    };
    Some(syn::Error::new(
        span,
        format!("`#[neatlogs::span]` goes on a function, not on {what}{hint}"),
    ))
}

/// `tokens` with every token at `span`.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(g) = &tree {
                let mut group = Group::new(g.delimiter(), respan(&g.stream(), span));
                group.set_span(span);
                tree = group.into();
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// A local of the generated code: `mixed_site` hygiene, so no user
/// identifier can name it or be shadowed by it.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The paths and names shared by the pieces of one expansion.
struct Gen<'a> {
    args: &'a SpanArgs,
    /// `::neatlogs::__private`, or `<crate = path>::__private`.
    private: TokenStream,
    builder: Ident,
    /// Whether the return value is recorded as the output.
    record_output: bool,
}

pub(crate) fn gen_function(func: MaybeItemFn, args: &SpanArgs) -> TokenStream {
    let MaybeItemFn {
        outer_attrs,
        inner_attrs,
        vis,
        sig,
        body,
    } = func;
    let body_stmts = body.stmts.clone();
    let private = match &args.krate {
        Some(krate) => {
            let path = &krate.path;
            quote!(#path::__private)
        }
        None => quote!(::neatlogs::__private),
    };
    let capture_output = args.skip_output.is_none() && !returns_unit(&sig.output);
    let codegen = Gen {
        args,
        private,
        builder: local("__neatlogs_builder"),
        record_output: capture_output,
    };
    let open = match codegen.open(&sig) {
        Ok(open) => open,
        Err(e) => {
            let fn_body = braced_at(body.braces, quote!(#(#inner_attrs)* #body_stmts));
            let mut out = e.to_compile_error();
            out.extend(quote! {
                #(#outer_attrs)*
                #vis #sig #fn_body
            });
            return out;
        }
    };

    let new_body = if sig.asyncness.is_some() {
        let output = match &sig.output {
            ReturnType::Type(_, ty) => Some(&**ty),
            ReturnType::Default => None,
        };
        codegen.async_body(&open, output, &body, quote!(move))
    } else if let Some(found) = AsyncBody::find(&body) {
        // A function that returns a future it builds from an async block:
        // what `#[async_trait]` makes of an `async fn`. Instrument that
        // future, not the call that merely creates it.
        found.instrument(&codegen, &open, future_output(&sig.output))
    } else {
        let returned = match &sig.output {
            ReturnType::Type(_, ty) if is_result(ty) || codegen.record_output => Some(&**ty),
            _ => None,
        };
        codegen.sync_body(&open, returned, &body)
    };

    let fn_body = braced_at(body.braces, quote!(#(#inner_attrs)* #new_body));
    quote! {
        #(#outer_attrs)*
        #vis #sig #fn_body
    }
}

impl Gen<'_> {
    /// Statements that make `__neatlogs_builder`: the span, its code
    /// location, the captured input, and (on a root only) the identity.
    fn open(&self, sig: &Signature) -> syn::Result<TokenStream> {
        let Gen {
            args,
            private,
            builder,
            ..
        } = self;
        let name = match &args.name {
            Some(name) => name.value.clone(),
            None => LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()),
        };
        let kind = match &args.kind {
            Some(kind) => kind.variant.clone(),
            None => Ident::new(DEFAULT_KIND, Span::call_site()),
        };
        let function = LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span());
        let site = local("__NEATLOGS_SITE");
        let at = sig.ident.span();
        let line = quote_spanned!(at=> ::core::line!());
        let file = quote_spanned!(at=> ::core::file!());
        let mut out = quote! {
            let #builder = #private::span_at(#private::SpanKind::#kind, {
                static #site: #private::Site = #private::Site::new(
                    #name,
                    #function,
                    ::core::module_path!(),
                    #file,
                    #line,
                );
                &#site
            });
        };
        out.extend(self.capture_input(sig)?);
        if !args.has_root_values() {
            return Ok(out);
        }
        // Each call is spanned, path included, at the user's expression, so
        // a type error ("`Foo` cannot be an end-user id", "`Foo: Serialize`
        // is not satisfied") points there and nowhere else.
        let mut set = TokenStream::new();
        if let Some(arg) = &args.end_user_id {
            let value = &arg.value;
            let private = respan(private, value.span());
            set.extend(quote_spanned! {value.span()=>
                let #builder = #private::SpanBuilder::end_user_id(#builder, #value);
            });
        }
        if let Some(arg) = &args.end_user_metadata {
            let value = &arg.value;
            let private = respan(private, value.span());
            // By reference: the metadata is serialized, never moved, so the
            // expression can name an argument the body still uses. The
            // parentheses keep `&` on the whole expression (`a.b().c`); the
            // lints would blame the user for tokens the macro wrote.
            set.extend(quote_spanned! {value.span()=>
                #[allow(unused_parens, clippy::needless_borrows_for_generic_args)]
                let #builder = #private::SpanBuilder::end_user_metadata(#builder, &(#value));
            });
        }
        if let Some(arg) = &args.session_id {
            let value = &arg.value;
            let private = respan(private, value.span());
            set.extend(quote_spanned! {value.span()=>
                let #builder = #private::SpanBuilder::session_id(#builder, #value);
            });
        }
        if let Some(arg) = args.tags.as_ref().filter(|t| !t.tags.is_empty()) {
            let tags = arg.tags.iter().map(|tag| {
                let private = respan(private, tag.span());
                quote_spanned! {tag.span()=> #private::tag(#tag) }
            });
            set.extend(quote! {
                let #builder = #private::SpanBuilder::tags(#builder, [#(#tags),*]);
            });
        }
        // The trace root owns the identity; on a nested span (or when tracing
        // is off) these values would be ignored, so their expressions are not
        // evaluated at all: no cost, and no side effects, off the root. A
        // nested span says so (at `warn` once per function), spanned at the
        // function's name so the diagnostic names the user's code.
        let given: Vec<&str> = [
            args.end_user_id.is_some().then_some("end_user_id"),
            args.end_user_metadata
                .is_some()
                .then_some("end_user_metadata"),
            args.session_id.is_some().then_some("session_id"),
            args.tags
                .as_ref()
                .filter(|t| !t.tags.is_empty())
                .map(|_| "tags"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let given = LitStr::new(&given.join(", "), at);
        let ignored = quote_spanned! {at=>
            #private::SpanBuilder::identity_ignored(&#builder, #given);
        };
        out.extend(quote! {
            let #builder = if #private::SpanBuilder::is_root(&#builder) {
                #set
                #builder
            } else {
                #ignored
                #builder
            };
        });
        Ok(out)
    }

    /// The arguments (all but `self` and those in `skip(..)`, as one JSON
    /// object) or the `input = ..` expression, as the span's input;
    /// evaluated only when the span is recorded and content is captured.
    fn capture_input(&self, sig: &Signature) -> syn::Result<TokenStream> {
        let Gen {
            args,
            private,
            builder,
            ..
        } = self;
        if args.skip_all.is_some() {
            return Ok(TokenStream::new());
        }
        let uses = quote! {
            #[allow(unused_imports)]
            use #private::{DebugCapture as _, NamedCapture as _, SerializeCapture as _};
        };
        if let Some(arg) = &args.input {
            let value = &arg.value;
            let private_at = respan(private, value.span());
            return Ok(quote! {
                // The extra borrows are the mechanism, not a mistake to lint.
                #[allow(clippy::needless_borrow, unused_parens)]
                let #builder = if #private::capturing(&#builder) {
                    #uses
                    let __neatlogs_value = (&&&#private_at::Capture(&(#value))).__neatlogs_capture();
                    #private::input(#builder, __neatlogs_value)
                } else {
                    #builder
                };
            });
        }
        let named: Vec<&Ident> = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(t) => match &*t.pat {
                    syn::Pat::Ident(p) => Some(&p.ident),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let skipped: Vec<&Ident> = args.skip.iter().flat_map(|s| &s.names).collect();
        for name in &skipped {
            if !named.iter().any(|n| n.unraw() == name.unraw()) {
                let names: Vec<String> = named.iter().map(|n| format!("`{n}`")).collect();
                let hint = if names.is_empty() {
                    "it has no named argument".to_owned()
                } else {
                    format!("its arguments are {}", names.join(", "))
                };
                return Err(syn::Error::new(
                    name.span(),
                    format!("`skip({name})`: the function has no argument `{name}`; {hint}"),
                ));
            }
        }
        let captured: Vec<&Ident> = named
            .into_iter()
            .filter(|n| !skipped.iter().any(|s| s.unraw() == n.unraw()))
            .collect();
        if captured.is_empty() {
            return Ok(TokenStream::new());
        }
        let map = local("__neatlogs_args");
        let keys = captured
            .iter()
            .map(|n| LitStr::new(&n.unraw().to_string(), n.span()));
        Ok(quote! {
            #[allow(clippy::needless_borrow)]
            let #builder = if #private::capturing(&#builder) {
                #uses
                let mut #map = #private::Map::new();
                #(
                    #private::insert(
                        &mut #map,
                        #keys,
                        (&&&#private::Capture(&#captured)).__neatlogs_capture(),
                    );
                )*
                #private::with_input(#builder, #map)
            } else {
                #builder
            };
        })
    }

    /// Record `result` (its `Ok` value for a `Result`) as the output, with
    /// `record` (given the closure that computes it).
    fn capture_output(
        &self,
        result: &Ident,
        record: impl FnOnce(TokenStream) -> TokenStream,
    ) -> TokenStream {
        if !self.record_output {
            return TokenStream::new();
        }
        let private = &self.private;
        let value = local("__neatlogs_value");
        let compute = quote! {
            || {
                #[allow(unused_imports)]
                use #private::{
                    DebugCapture as _, IsResult as _, NamedCapture as _, NotResult as _,
                    SerializeCapture as _,
                };
                #[allow(clippy::needless_borrow)]
                let #value = (&&#private::Outcome(&#result)).__neatlogs_ok();
                #[allow(clippy::needless_borrow)]
                #value.map(|#value| (&&&#private::Capture(#value)).__neatlogs_capture())
            }
        };
        record(compute)
    }

    /// A sync function: a guard for the span, and the body.
    fn sync_body(
        &self,
        open: &TokenStream,
        result_type: Option<&Type>,
        body: &Body,
    ) -> TokenStream {
        let Gen {
            private, builder, ..
        } = self;
        let guard = local("__neatlogs_guard");
        let enter = quote! {
            // A local of the function body: the span ends when the function
            // returns, by any path, and with ERROR if it unwinds.
            let #guard = #private::SpanBuilder::enter(#builder);
        };
        let Some(result_type) = result_type else {
            let stmts = &body.stmts;
            return quote! {
                #open
                #enter
                #stmts
            };
        };
        let is_result = is_result(result_type);
        let result = local("__neatlogs_result");
        let error = local("__neatlogs_error");
        let closure_body = body.wrap(self.fake_return(Some(result_type)));
        // Spanned at the return type: a body that does not produce a value
        // is reported where the function says which value it returns.
        let end_of_type = result_type
            .to_token_stream()
            .into_iter()
            .last()
            .map_or_else(Span::call_site, |t| t.span());
        let closure = quote_spanned!(end_of_type=> move ||);
        let check = if is_result {
            self.check_error(
                &result,
                &error,
                |message| quote!(#private::guard_error(&#guard, &#message);),
            )
        } else {
            TokenStream::new()
        };
        let output = self.capture_output(
            &result,
            |compute| quote!(#private::guard_output(&#guard, #compute);),
        );
        quote! {
            #open
            #enter
            // The body runs in a closure so that `return` and `?` come back
            // here with the value, which is then checked for `Err` and
            // recorded as the output.
            #[allow(clippy::redundant_closure_call)]
            let #result = (#closure #closure_body)();
            #check
            #output
            #result
        }
    }

    /// An async body (of an `async fn`, or of the async block a function
    /// returns): a future that enters the span on every poll.
    fn async_body(
        &self,
        open: &TokenStream,
        output: Option<&Type>,
        body: &Body,
        capture: TokenStream,
    ) -> TokenStream {
        let Gen {
            private, builder, ..
        } = self;
        let future = local("__neatlogs_future");
        let block = body.wrap(self.fake_return(output));
        // The body moves into its own future, instrumented: a guard held
        // across `.await` would be `!Send` (and would stay entered while the
        // task is parked). The future is `Send` when the body is.
        let inner = quote!(async #capture #block);
        let is_result = output.is_some_and(is_result);
        let wrapped = if !is_result && !self.record_output {
            inner
        } else {
            let result = local("__neatlogs_result");
            let error = local("__neatlogs_error");
            // Inside the instrumented future, so the span is current.
            let check = if is_result {
                self.check_error(
                    &result,
                    &error,
                    |message| quote!(#private::record_error_message(&#message);),
                )
            } else {
                TokenStream::new()
            };
            let record = self.capture_output(
                &result,
                |compute| quote!(#private::current_output(#compute);),
            );
            quote! {
                async #capture {
                    // Its own async block, so `return` and `?` land here.
                    let #result = #inner.await;
                    #check
                    #record
                    #result
                }
            }
        };
        quote! {
            #open
            let #future = #wrapped;
            #private::SpanBuilder::instrument(#builder, #future).await
        }
    }

    /// `if false { return <value of the declared type>; }` as the first
    /// statement of the closure or async block that wraps the body: it fixes
    /// the block's return type before the body is checked, so that `?`,
    /// `.into()` and `Err(Box::new(e))` convert exactly as they do in the
    /// function (the trick `tracing-attributes` uses for the same reason).
    /// `impl Trait` is replaced with `_`, which a `let` accepts.
    fn fake_return(&self, output: Option<&Type>) -> TokenStream {
        let private = &self.private;
        let (ty, span) = match output {
            Some(ty) => (erase_impl_trait(ty).into_token_stream(), ty.span()),
            None => (quote!(()), Span::call_site()),
        };
        // Hygienic, but shown at the return type in diagnostics.
        let fake = Ident::new(
            "__neatlogs_fake_return",
            Span::mixed_site().located_at(span),
        );
        quote_spanned! {span=>
            #[allow(clippy::let_unit_value)]
            if false {
                let #fake: #ty = #private::fake_return();
                return #fake;
            }
        }
    }

    /// Mark the span ERROR when `result` is an `Err`, with the error's
    /// `Display` text, else its `Debug` text, else its type name.
    fn check_error(
        &self,
        result: &Ident,
        error: &Ident,
        record: impl FnOnce(TokenStream) -> TokenStream,
    ) -> TokenStream {
        let private = &self.private;
        let message = quote! {
            (&&&#private::ErrorText(#error)).__neatlogs_error_text()
        };
        let record = record(message);
        quote! {
            // The extra borrows are the mechanism, not a mistake to lint.
            #[allow(clippy::needless_borrow)]
            {
                // Autoref specialization picks the most specific impl at this
                // site, where the error type is concrete: an error without
                // `Display` (or even `Debug`) still compiles. A type merely
                // named `Result` is never an error.
                #[allow(unused_imports)]
                use #private::{DebugError as _, DisplayError as _, IsResult as _, NamedError as _, NotResult as _};
                if let #private::Some(#error) = (&&#private::Outcome(&#result)).__neatlogs_err() {
                    #record
                }
            }
        }
    }
}

/// The async block a non-async function returns (`Box::pin(async move { .. })`,
/// as `#[async_trait]` writes it, or a bare `async move { .. }`).
struct AsyncBody<'a> {
    block: &'a Block,
    /// Index of the statement that returns the future.
    index: usize,
    async_expr: &'a ExprAsync,
    /// The `Box::pin` call around it, if any.
    pinned_by: Option<&'a ExprCall>,
}

impl<'a> AsyncBody<'a> {
    /// Follows `tracing-attributes`' `AsyncInfo::from_fn`: the last
    /// expression of the body is the future.
    fn find(body: &'a Body) -> Option<AsyncBody<'a>> {
        let block = body.parsed.as_ref()?;
        let (index, last) =
            block
                .stmts
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, stmt)| match stmt {
                    Stmt::Expr(expr, None) => Some((i, expr)),
                    _ => None,
                })?;
        match last {
            Expr::Async(async_expr) => Some(AsyncBody {
                block,
                index,
                async_expr,
                pinned_by: None,
            }),
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return None;
                };
                let segments: Vec<String> = func
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) {
                    return None;
                }
                match call.args.first() {
                    Some(Expr::Async(async_expr)) if call.args.len() == 1 => Some(AsyncBody {
                        block,
                        index,
                        async_expr,
                        pinned_by: Some(call),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn instrument(
        self,
        codegen: &Gen<'_>,
        open: &TokenStream,
        output: Option<Type>,
    ) -> TokenStream {
        let ExprAsync {
            attrs,
            capture,
            block,
            ..
        } = self.async_expr;
        let capture = capture.map(|c| c.into_token_stream()).unwrap_or_default();
        let inner = Body::from_block(block);
        let body = codegen.async_body(open, output.as_ref(), &inner, capture.clone());
        // The span opens when the future is first polled, in the context
        // that polls it, like an `async fn`'s.
        let body = braced_at(inner.braces, body);
        let future = quote! {
            #(#attrs)* async #capture #body
        };
        let future = match self.pinned_by {
            Some(call) => {
                let func = &call.func;
                quote!(#func(#future))
            }
            None => future,
        };
        let before = &self.block.stmts[..self.index];
        let after = &self.block.stmts[self.index + 1..];
        quote! {
            #(#before)*
            #future
            #(#after)*
        }
    }
}

/// Whether the function returns nothing worth recording: no type, or `()`.
fn returns_unit(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()),
    }
}

/// Whether the return type is a `Result`: a path whose last segment is
/// `Result` (`Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`).
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        Type::Paren(p) => is_result(&p.elem),
        Type::Group(g) => is_result(&g.elem),
        _ => false,
    }
}

/// The `Output` of the future a function returns:
/// `Pin<Box<dyn Future<Output = T> + Send + '_>>` or `impl Future<Output = T>`.
fn future_output(output: &ReturnType) -> Option<Type> {
    fn in_bounds<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<Type> {
        bounds.into_iter().find_map(|bound| {
            let TypeParamBound::Trait(t) = bound else {
                return None;
            };
            let last = t.path.segments.last()?;
            if last.ident != "Future" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(a) if a.ident == "Output" => Some(a.ty.clone()),
                _ => None,
            })
        })
    }
    fn in_type(ty: &Type) -> Option<Type> {
        match ty {
            Type::ImplTrait(t) => in_bounds(&t.bounds),
            Type::TraitObject(t) => in_bounds(&t.bounds),
            Type::Paren(p) => in_type(&p.elem),
            Type::Group(g) => in_type(&g.elem),
            Type::Path(p) => {
                // `Pin<Box<..>>`: look inside the generic arguments.
                let last = p.path.segments.last()?;
                let PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                args.args.iter().find_map(|arg| match arg {
                    GenericArgument::Type(t) => in_type(t),
                    _ => None,
                })
            }
            _ => None,
        }
    }
    match output {
        ReturnType::Type(_, ty) => in_type(ty),
        ReturnType::Default => None,
    }
}

/// Replace every `impl Trait` with `_`, so the type can annotate a `let`.
fn erase_impl_trait(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(t) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: Token![_](t.span()),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: &str, item: &str) -> String {
        span(args.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    #[test]
    fn crate_path_replaces_every_neatlogs_path() {
        let out = expand(
            "kind = \"TOOL\", end_user_id = id, crate = my_sdk::tracing",
            "fn f(id: &str) -> Result<(), E> { Ok(()) }",
        );
        assert!(out.contains("my_sdk :: tracing :: __private"), "{out}");
        assert!(!out.contains(":: neatlogs"), "{out}");
    }

    #[test]
    fn detects_results_by_last_segment() {
        for ty in [
            "Result<u8, E>",
            "io::Result<u8>",
            "::anyhow::Result<()>",
            "fmt::Result",
        ] {
            assert!(is_result(&syn::parse_str(ty).unwrap()), "{ty}");
        }
        for ty in [
            "Option<u8>",
            "Results",
            "Vec<Result<u8, E>>",
            "&Result<u8, E>",
        ] {
            assert!(!is_result(&syn::parse_str(ty).unwrap()), "{ty}");
        }
    }

    #[test]
    fn finds_future_output() {
        let out = |s: &str| {
            future_output(&syn::parse_str(s).unwrap()).map(|t| t.into_token_stream().to_string())
        };
        assert_eq!(
            out("-> Pin<Box<dyn Future<Output = Result<u8, E>> + Send + 'async_trait>>").as_deref(),
            Some("Result < u8 , E >")
        );
        assert_eq!(
            out("-> impl Future<Output = u8> + Send").as_deref(),
            Some("u8")
        );
        assert_eq!(out("-> u8"), None);
    }
}
