async fn handle_request(request: Request) -> Result<Response, AppError> {
    let __neatlogs_builder = ::neatlogs::__private::span_at(
        ::neatlogs::__private::SpanKind::Workflow,
        {
            static __NEATLOGS_SITE: ::neatlogs::__private::Site = ::neatlogs::__private::Site::new(
                "handle_request",
                "handle_request",
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            );
            &__NEATLOGS_SITE
        },
    );
    #[allow(clippy::needless_borrow)]
    let __neatlogs_builder = if ::neatlogs::__private::capturing(&__neatlogs_builder) {
        #[allow(unused_imports)]
        use ::neatlogs::__private::{
            DebugCapture as _, NamedCapture as _, SerializeCapture as _,
        };
        let mut __neatlogs_args = ::neatlogs::__private::Map::new();
        ::neatlogs::__private::insert(
            &mut __neatlogs_args,
            "request",
            (&&&::neatlogs::__private::Capture(&request)).__neatlogs_capture(),
        );
        ::neatlogs::__private::with_input(__neatlogs_builder, __neatlogs_args)
    } else {
        __neatlogs_builder
    };
    let __neatlogs_builder = if ::neatlogs::__private::SpanBuilder::is_root(
        &__neatlogs_builder,
    ) {
        let __neatlogs_builder = ::neatlogs::__private::SpanBuilder::end_user_id(
            __neatlogs_builder,
            request.user_id.as_str(),
        );
        let __neatlogs_builder = ::neatlogs::__private::SpanBuilder::session_id(
            __neatlogs_builder,
            &request.session,
        );
        __neatlogs_builder
    } else {
        ::neatlogs::__private::SpanBuilder::identity_ignored(
            &__neatlogs_builder,
            "end_user_id, session_id",
        );
        __neatlogs_builder
    };
    let __neatlogs_future = async move {
        let __neatlogs_result = async move {
            #[allow(clippy::let_unit_value)]
            if false {
                let __neatlogs_fake_return: Result<Response, AppError> = ::neatlogs::__private::fake_return();
                return __neatlogs_fake_return;
            }
            let answer = agent(&request).await?;
            Ok(Response { answer })
        }
            .await;
        #[allow(clippy::needless_borrow)]
        {
            #[allow(unused_imports)]
            use ::neatlogs::__private::{
                DebugError as _, DisplayError as _, IsResult as _, NamedError as _,
                NotResult as _,
            };
            if let ::neatlogs::__private::Some(__neatlogs_error) = (&&::neatlogs::__private::Outcome(
                &__neatlogs_result,
            ))
                .__neatlogs_err()
            {
                ::neatlogs::__private::record_error_message(
                    &(&&&::neatlogs::__private::ErrorText(__neatlogs_error))
                        .__neatlogs_error_text(),
                );
            }
        }
        ::neatlogs::__private::current_output(|| {
            #[allow(unused_imports)]
            use ::neatlogs::__private::{
                DebugCapture as _, IsResult as _, NamedCapture as _, NotResult as _,
                SerializeCapture as _,
            };
            #[allow(clippy::needless_borrow)]
            let __neatlogs_value = (&&::neatlogs::__private::Outcome(&__neatlogs_result))
                .__neatlogs_ok();
            #[allow(clippy::needless_borrow)]
            __neatlogs_value
                .map(|__neatlogs_value| {
                    (&&&::neatlogs::__private::Capture(__neatlogs_value))
                        .__neatlogs_capture()
                })
        });
        __neatlogs_result
    };
    ::neatlogs::__private::SpanBuilder::instrument(__neatlogs_builder, __neatlogs_future)
        .await
}
